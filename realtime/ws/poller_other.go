//go:build !linux

package ws

import "errors"

// newPollImpl: without epoll, idle readers block in their own goroutine.
func newPollImpl() (pollImpl, error) {
	return nil, errors.New("realtime: no read poller on this platform")
}
