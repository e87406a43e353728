package ws

import (
	"errors"
	"syscall"
)

// epollImpl is the Linux poller: an epoll set of its own (Go's runtime keeps its own,
// edge-triggered, registration of the same sockets; the two do not interfere). Each
// arm is EPOLLONESHOT, level-triggered: a socket that is already readable fires at once.
type epollImpl struct {
	fd     int
	events []syscall.EpollEvent
}

func newPollImpl() (pollImpl, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &epollImpl{fd: fd, events: make([]syscall.EpollEvent, 256)}, nil
}

const epollRDHUP = 0x2000 // EPOLLRDHUP: the peer closed its side

func (e *epollImpl) arm(fd int, token uint64, first bool) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | epollRDHUP | syscall.EPOLLONESHOT,
		Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
	op := syscall.EPOLL_CTL_MOD
	if first {
		op = syscall.EPOLL_CTL_ADD
	}
	err := syscall.EpollCtl(e.fd, op, fd, &ev)
	switch {
	case first && errors.Is(err, syscall.EEXIST):
		err = syscall.EpollCtl(e.fd, syscall.EPOLL_CTL_MOD, fd, &ev)
	case !first && errors.Is(err, syscall.ENOENT):
		err = syscall.EpollCtl(e.fd, syscall.EPOLL_CTL_ADD, fd, &ev)
	}
	return err
}

func (e *epollImpl) wait(tokens []uint64) ([]uint64, error) {
	n, err := syscall.EpollWait(e.fd, e.events, -1)
	if err != nil {
		return tokens, err
	}
	for _, ev := range e.events[:n] {
		tokens = append(tokens, uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32)
	}
	return tokens, nil
}
