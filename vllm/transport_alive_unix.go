//go:build linux || darwin || freebsd || netbsd || openbsd

package vllm

import (
	"errors"
	"net"
	"syscall"
)

// alive reports whether an idle connection is still open with nothing to read: a
// non-blocking peek at its socket sees the server's close (0 bytes), a reset, or bytes
// nobody asked for.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) // nothing to read yet
		return true                                                                  // never wait for the socket
	})
	return err == nil && open
}
