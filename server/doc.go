// Package server is the talker itself: it accepts telnet connections, runs
// the login exchange, and keeps the world (sessions, players, rooms) in one
// goroutine that every change goes through. Its shape follows net/http's
// Server: Start (or New), Serve, Shutdown.
//
// (It would be called "talker", but a talker/ directory at the top of the
// repository would swallow the binary that `go build -o talker .` writes.)
//
// Below it: the connection edge (reading, writing, limits) is package conn,
// the telnet codec package telnet, storage package store, text rendering
// package text. Package reboot moves a generation's sockets and state to the
// next one; package state is the format of that state.
//
// The files, from the process's edge inwards:
//
//	server.go        Server: Start, New, Serve (the accept loop), Shutdown, the accept gate
//	proxy.go         listeners behind a proxy: the PROXY protocol header, read exactly
//	keepalive.go     telnet NOP to idle connections, TCP keepalive; mssp.go, what crawlers are told
//	linkdead.go      link-dead sessions (a dropped connection kept for a while) and resuming them
//	gmcp.go          GMCP: Char, Comm and Room messages to clients that listed them (Core is telnet/gmcp.go)
//	config.go        Config, Messages, the defaults; reload.go, `config reload`
//	control.go       the control socket the launcher talks to (status, reboot, shutdown)
//	world.go         World: the event loop that owns all state; input, accept, tick, logout
//	lifecycle.go     the World's typed phase (serving, rebooting, pausing, paused, stopping), close reasons
//	session.go       Session: one connection's place in the world, and sending to it
//	login.go         the login state machine, the login guard; hashqueue.go, password hashing
//	                 off the loop in a fair queue; guardqueue.go, a login's check waits there
//	                 for the guard instead of being refused; lookalikes.go, the index of names by look
//	pager.go         long output a page at a time; editor.go, multi-line mail and descriptions
//	textfiles.go     DATA/text: greeting, motd, rules, help topics
//	commands.go      the command table and dispatch; cmd_*.go are the commands by category
//	converse.go      converse mode, '.' (repeat) and aliases.go's aliases: a line before dispatch
//	cmd_channels.go  channels and the staff channel; cmd_news.go, the news board; socials.go
//	invis.go         staff invisibility (hiddenFrom, visibleTo); profile.go and wrap.go, what
//	                 examine shows and the width set by hand; room_admin.go, room delete
//	rooms.go         rooms and their members; review.go, fans.go, bans.go, lookup.go: what commands share
//	countdown.go     reboot and shutdown countdowns; shutdown.go, the in-game shutdown
//	crash.go         panics turned into recovery reboots; commands disabled after repeated crashes
//	checkpoint.go    keeping the angel's copy of every socket and session up to date (Holder)
//	hookapi.go       what a lifecycle hook may do with the World
//	setup.go         the first start's setup steps and account creation
//	accounts.go      accounts as a whole (password, delete, rename, list, expiry) for
//	                 in-game commands (cmd_account.go), the control socket and the shell
//
// A seamless reboot, in two halves side by side:
//
//	reboot.go         what both halves share: the request, the timings, the map
//	reboot_parent.go  the old generation: begin, stage, announce, pause, snapshot, commit, rollback
//	reboot_child.go   the new generation: take over, wrap the staged sockets, restore, start
//	state.go          the talker's values to and from the state format (package state)
//	faults.go         failures tests inject into one generation (TALKER_FAULT)
//	parallel.go, closing.go  per-session work on every CPU; connections still flushing at exit
package server
