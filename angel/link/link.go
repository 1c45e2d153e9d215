// Package link is the protocol between the angel and the processes that
// talk to it over its Unix socket (DATA/angel.sock): each talker
// generation (hello, heartbeats, bye) and the launcher (status, stop).
// One JSON object per line (package ipc).
package link

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"talker/ipc"
)

// Message is any line on the angel socket. Exactly one field is set.
type Message struct {
	Hello *Hello     `json:",omitempty"` // talker → angel, first line of a talker's connection
	Beat  *Beat      `json:",omitempty"` // talker → angel, every second from the world's loop
	Bye   *Bye       `json:",omitempty"` // talker → angel, just before a deliberate exit
	Hold  *HoldHello `json:",omitempty"` // talker → angel: opens the hold channel (see hold.go)
	Cmd   string     `json:",omitempty"` // launcher → angel: "status", "stop", "resume"
}

// Hello identifies a talker generation.
type Hello struct {
	PID        int
	StartTime  uint64 // field 22 of /proc/PID/stat: with the pid, an identity that pid reuse cannot fake
	Generation int
	Version    string
	Listen     string
}

// Beat proves the talker's main loop is turning.
type Beat struct {
	Tick uint64
}

// Bye says why a generation is exiting, so that the angel knows even for a
// process it cannot wait for (one it adopted).
type Bye struct {
	Reason ByeReason
	Next   int // the pid of the generation taking over, if any
}

// ByeReason is why a generation exits deliberately. Its values are the
// wire's: a talker and an angel of different builds must understand each
// other.
type ByeReason string

const (
	ByeShutdown   ByeReason = "shutdown"    // stopped for good: do not restart
	ByeHandedOver ByeReason = "handed-over" // a seamless reboot: follow the next generation (Bye.Next)
	ByeRestart    ByeReason = "restart"     // start a new generation
)

// State is what the angel is doing about the talker, as `talker status`
// shows it. Its values are the wire's.
type State string

const (
	// StateStarting: a talker was started (cold, after a crash, or a
	// reboot's successor is awaited, or one is being adopted) and has not
	// said hello yet.
	StateStarting State = "starting"
	// StateRunning: the current generation has said hello and beats.
	StateRunning State = "running"
	// StateRestarting: no talker runs; one is started when the back-off
	// after a crash (Status.RestartIn) is over.
	StateRestarting State = "restarting"
	// StateCrashLoop: too many crashes in too short a time: the angel has
	// given up until `talker start`.
	StateCrashLoop State = "crash-loop"
	// StateStopping: a stop was asked for; the talker is shutting down.
	StateStopping State = "stopping"
	// StateStopped: the talker stopped deliberately, or its configuration
	// is broken: nothing is restarted until `talker start`.
	StateStopped State = "stopped"
)

func (s State) String() string { return string(s) }

// Status is the angel's answer to "status".
type Status struct {
	AngelPID   int
	AngelSince time.Time
	State      State
	Detail     string `json:",omitempty"`
	TalkerPID  int    `json:",omitempty"`
	Generation int    `json:",omitempty"`
	RestartIn  time.Duration
	Restarts   int
	LastExit   string    `json:",omitempty"`
	LastBeat   time.Time `json:",omitempty"`
	Adopted    bool
	// Held is how many player connections the angel holds for crash
	// recovery; HeldUpdated when the talker last changed what it holds
	// (zero: nothing yet, or an angel too old to say).
	Held        int       `json:",omitempty"`
	HeldUpdated time.Time `json:",omitzero"`
	// AngelVersion is the angel's build; AngelUpgrades how many times it
	// has re-executed in place (`talker angel upgrade`), the last at
	// AngelUpgradedAt.
	AngelVersion    string    `json:",omitempty"`
	AngelUpgrades   int       `json:",omitempty"`
	AngelUpgradedAt time.Time `json:",omitzero"`
}

// Reply answers a launcher command.
type Reply struct {
	OK     bool
	Error  string  `json:",omitempty"`
	Status *Status `json:",omitempty"`
}

// Call sends a launcher command to the angel and reads its reply.
func Call(sock, cmd string, timeout time.Duration) (*Reply, error) {
	c, err := net.DialTimeout("unix", sock, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if err := ipc.WriteJSON(c, Message{Cmd: cmd}); err != nil {
		return nil, err
	}
	var r Reply
	if err := ipc.NewLineReader(c, 0).ReadJSON(&r); err != nil {
		return nil, err
	}
	return &r, nil
}

// StartTime reads a process's start time (clock ticks since boot), field
// 22 of /proc/PID/stat, parsed after the last ')' because the command name
// may contain spaces and parentheses. ok is false if the process does not
// exist or is a zombie.
func StartTime(pid int) (start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return parseStartTime(string(b))
}

// parseStartTime reads field 22 of a /proc/PID/stat line, refusing zombies.
func parseStartTime(s string) (uint64, bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, false
	}
	fields := strings.Fields(s[i+2:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return 0, false
	}
	n, err := strconv.ParseUint(fields[19], 10, 64)
	return n, err == nil
}
