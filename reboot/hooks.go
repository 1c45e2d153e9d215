package reboot

import "fmt"

// HookSet is one group of lifecycle hooks, as in Evennia's
// at_server_startstop module. Any of them may be nil. T is whatever the
// program gives its hooks to work with (the talker passes its world).
type HookSet[T any] struct {
	Name        string        // for logs and errors
	Init        func(T) error // every start, first
	ColdStart   func(T) error // start after a cold start, reset, restart or crash
	ReloadStart func(T) error // start after a seamless reboot
	Start       func(T) error // every start, last
	ReloadStop  func(T) error // stop for a seamless reboot
	ColdStop    func(T) error // stop for a reset, restart or shutdown
	Stop        func(T) error // every stop, last
}

// Hooks holds the registered hook sets; they run in registration order.
type Hooks[T any] struct {
	sets []HookSet[T]
}

// Register adds a hook set.
func (h *Hooks[T]) Register(s HookSet[T]) { h.sets = append(h.sets, s) }

// Len is the number of registered sets.
func (h *Hooks[T]) Len() int { return len(h.sets) }

// Hook names, as recorded by tracing and shown in the docs.
const (
	HookInit        = "init"
	HookColdStart   = "cold_start"
	HookReloadStart = "reload_start"
	HookStart       = "start"
	HookReloadStop  = "reload_stop"
	HookColdStop    = "cold_stop"
	HookStop        = "stop"
)

// StartOrder returns the hooks a start in the given mode runs, in order.
func StartOrder(m Mode) []string {
	if m.Reload() {
		return []string{HookInit, HookReloadStart, HookStart}
	}
	return []string{HookInit, HookColdStart, HookStart}
}

// StopOrder returns the hooks a stop in the given mode runs, in order.
func StopOrder(m Mode) []string {
	if m.Reload() {
		return []string{HookReloadStop, HookStop}
	}
	return []string{HookColdStop, HookStop}
}

// RunStart runs the start hooks for mode: each hook in StartOrder, across
// all sets, before the next. The first error stops the sequence.
func (h *Hooks[T]) RunStart(m Mode, arg T) error { return h.run(StartOrder(m), arg) }

// RunStop runs the stop hooks for mode.
func (h *Hooks[T]) RunStop(m Mode, arg T) error { return h.run(StopOrder(m), arg) }

func (h *Hooks[T]) run(order []string, arg T) error {
	for _, name := range order {
		for _, s := range h.sets {
			fn := s.pick(name)
			if fn == nil {
				continue
			}
			if err := call(fn, arg); err != nil {
				return fmt.Errorf("%s hook of %q: %w", name, s.Name, err)
			}
		}
	}
	return nil
}

// call runs a hook, turning a panic into an error: a broken hook must not
// take a reboot's rollback down with it.
func call[T any](fn func(T) error, arg T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(arg)
}

func (s HookSet[T]) pick(name string) func(T) error {
	switch name {
	case HookInit:
		return s.Init
	case HookColdStart:
		return s.ColdStart
	case HookReloadStart:
		return s.ReloadStart
	case HookStart:
		return s.Start
	case HookReloadStop:
		return s.ReloadStop
	case HookColdStop:
		return s.ColdStop
	case HookStop:
		return s.Stop
	}
	return nil
}
