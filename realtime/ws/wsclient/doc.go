// Package wsclient is a small Go client of HAPA's WebSocket protocol hapa.v1
// (docs/protocol.md). It is used by the realtime tests and by the benchmark tool.
// One Client is one socket; streams are multiplexed over it by id. It declares its own
// wire types rather than importing realtime's, so it is an independent reading of the
// protocol document.
package wsclient
