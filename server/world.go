package server

import (
	"errors"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"talker/player"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/logging"
	"talker/server/store"
	"talker/server/telnet"
	"talker/server/text"
)

// World owns every session, player and room. Only its own goroutine (run)
// touches them; everything else — connections' readers, the accept loop,
// password hashing, shutdown — sends it events. That single owner is what
// gives a reboot one consistent point at which to take a snapshot.
type World struct {
	tlsPorts []int // the TLS listeners' ports, for MSSP (tls.go)
	cfg      *Config
	log      zerolog.Logger
	store    *store.Store

	events chan any
	// control carries calls that must not wait behind queued events: a
	// reboot's quiesce, which defers whatever input is queued instead of
	// acting on it (see feed).
	control chan call

	sessions map[uint64]*Session // every connection, logged in or not
	online   map[string]*Session // player key → the session playing it
	fans     fanIndex            // player key → sessions that have them as a friend
	rooms    map[string]*Room
	perAddr  map[string]int
	guard    loginGuard
	commands *commandTable
	texts    *textFiles // DATA/text: greeting, motd, rules, help topics (textfiles.go)

	hashSlots int           // password hashes that may run at once: one a CPU
	hashJobs  int           // password hashes running
	hashes    hashQueue     // password hashes waiting for a CPU (hashqueue.go)
	names     nameIndex     // registered names by look-alike keys (lookalikes.go)
	stopped   chan struct{} // closed when the loop ends (phaseStopping, nobody left)
	// Logins whose password is checked, waiting for their writes, and
	// whether the run loop is gathering them into one transaction
	// (batchLogins; login.go: queueEntry).
	entering []pendingEntry
	batching bool

	// The lifecycle (lifecycle.go): the phase, and its data.
	phase  phase
	reboot *rebootInProgress // phases rebooting, pausing, paused
	pause  *pauseState       // phases pausing, paused
	// recoveryAsked: a panic has asked for a recovery reboot (crash.go);
	// more panics meanwhile do not ask again.
	recoveryAsked bool
	// doReload re-reads the configuration file (Server.ReloadConfig).
	doReload func(by string) (ReloadReport, error)
	// doReboot runs a reboot (Server.Reboot); requestStop asks the program
	// to shut the talker down (Server.ShutdownRequested).
	doReboot    func(RebootRequest) (*RebootTimings, error)
	requestStop func()

	system  SystemState
	connIDs *atomic.Uint64
	closing *closingConns // closed, maybe still flushing (closing.go)
	ticks   uint64
	// countdown is a reboot or reset counting down, shutdownCountdown a
	// shutdown (countdown.go).
	countdown, shutdownCountdown *countdown

	review        map[string][]ReviewLine // room id → the last lines said there (review.go)
	linkDead      map[uint64]*Session     // sessions kept without their connection, by id (linkdead.go)
	linkDeadJSON  linkDeadJSON            // their encoding for the angel's checkpoints (linkdead.go)
	systemNowAt   time.Time               // the last checkpointSystemNow that sent (linkdead.go)
	bans          []store.Ban             // loaded from the database (bans.go)
	newbiesClosed bool                    // registration refused (stored in meta)
	expiredAt     time.Time               // when idle newbie accounts were last looked for (expireNewbies)

	holder     Holder          // the angel, keeping sockets and checkpoints (checkpoint.go)
	jr         *journaling     // the crash journal, under an angel (journal.go)
	dirty      map[uint64]bool // sessions changed since the last checkpoint
	lastSystem []byte          // the system state last sent to the holder
	disabled   map[string]bool // commands turned off (see crash.go)
	scratch    sync.Pool       // *recordScratch, for building records (state.go)
	hookMode   reboot.Mode     // of the lifecycle hooks running or last run (hookapi.go)

	refusals *logging.Summary[string] // refused connections by kind (refusal)
}

// events the world handles besides conn.Input.
type (
	// accepted is a new connection from the accept loop.
	accepted struct{ c *conn.Conn }
	// call runs fn on the world goroutine (shutdown, tests, admin tools).
	call struct {
		fn   func(*World)
		done chan struct{}
	}
)

func newWorld(cfg *Config, st *store.Store, connIDs *atomic.Uint64) (*World, error) {
	w := &World{
		closing:   &closingConns{},
		cfg:       cfg,
		log:       cfg.Log,
		store:     st,
		events:    make(chan any, 4096),
		control:   make(chan call),
		sessions:  map[uint64]*Session{},
		online:    map[string]*Session{},
		fans:      fanIndex{},
		rooms:     map[string]*Room{},
		perAddr:   map[string]int{},
		guard:     newLoginGuard(),
		commands:  newCommandTable(),
		texts:     newTextFiles(filepath.Join(cfg.DataDir, textDir), cfg.Now, cfg.Log),
		hashSlots: max(1, runtime.GOMAXPROCS(0)),
		stopped:   make(chan struct{}),
		connIDs:   connIDs,
		dirty:     map[uint64]bool{},
	}
	w.loadDisabled()
	if cfg.Journal && !cfg.NoJournal {
		w.openJournal() // journal.go
	}
	rooms, err := st.Rooms()
	if err != nil {
		return nil, err
	}
	for _, r := range rooms {
		w.rooms[r.ID] = &Room{Room: *r}
	}
	if w.rooms[cfg.StartRoom] == nil {
		// A database without the start room (deleted by hand, say) must
		// still have somewhere to put people.
		r := &store.Room{ID: cfg.StartRoom, Name: "The Main Room", Description: "A plain room."}
		if err := st.SaveRoom(r); err != nil {
			return nil, err
		}
		w.rooms[r.ID] = &Room{Room: *r}
	}
	if err := w.loadBans(); err != nil {
		return nil, err
	}
	v, _, err := st.Meta(metaNewbiesClosed)
	if err != nil {
		return nil, err
	}
	w.newbiesClosed = v == "1"
	return w, nil
}

// run is the world's event loop. It returns when a shutdown has finished.
func (w *World) run() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	cp := time.NewTicker(checkpointEvery)
	defer cp.Stop()
	// Input a previous generation deferred comes before anything new.
	w.replayHeld()
	for {
		select {
		case c := <-w.control:
			w.safely("event", func() { w.handle(c) })
			w.safely("journal", w.commitJournal)
			w.checkQuiesced()
			continue
		default:
		}
		select {
		case c := <-w.control:
			w.safely("event", func() { w.handle(c) })
		case ev := <-w.events:
			if res, ok := ev.(hashResult); ok {
				w.batchLogins(res)
				break
			}
			w.safely("event", func() { w.handle(ev) })
		case <-tick.C:
			w.safely("tick", func() { w.tick(w.cfg.Now()) })
		case <-cp.C:
			w.safely("checkpoint", w.checkpoint)
		}
		w.safely("journal", w.commitJournal) // journal.go: before the input may go
		w.checkQuiesced()
		if w.phase == phaseStopping && len(w.sessions) == 0 {
			close(w.stopped)
			return
		}
	}
}

// batchLogins handles a hash result and those queued right behind it, so
// that the logins among them are written in one transaction (flushEntries)
// instead of one each: a crowd logging in at once pays for one commit a
// batch. The batch is written, and its players let in, before anything
// else is handled: the first event that is not a hash result, an empty
// queue, or maxLoginBatch logins end it.
func (w *World) batchLogins(first hashResult) {
	w.batching = true
	w.safely("event", func() { w.hashDone(first) })
	var next any
gather:
	for len(w.entering) > 0 && len(w.entering) < maxLoginBatch {
		select {
		case ev := <-w.events:
			res, ok := ev.(hashResult)
			if !ok {
				next = ev
				break gather
			}
			w.safely("event", func() { w.hashDone(res) })
		default:
			break gather
		}
	}
	w.batching = false
	w.safely("logins", w.flushEntries)
	if next != nil {
		w.safely("event", func() { w.handle(next) })
	}
}

// do runs fn on the world goroutine and waits for it.
func (w *World) do(fn func(*World)) {
	c := call{fn: fn, done: make(chan struct{})}
	w.events <- c
	<-c.done
}

// doFirst is do for a call that goes ahead of every queued event.
func (w *World) doFirst(fn func(*World)) {
	c := call{fn: fn, done: make(chan struct{})}
	w.control <- c
	<-c.done
}

func (w *World) handle(ev any) {
	switch ev := ev.(type) {
	case conn.Input:
		w.input(ev)
	case accepted:
		w.accept(ev.c)
	case hashResult:
		w.hashDone(ev)
	case conn.Panic:
		w.panicked("connection", "", "", ev.Value, ev.Stack)
	case call:
		defer close(ev.done) // even if fn panics: its caller must not hang
		ev.fn(w)
	default:
		w.log.Error().Type("event", ev).Msg("unknown world event")
	}
}

func (w *World) accept(c *conn.Conn) {
	w.journalConn(c) // journal.go: its reader peeks, its output waits for commits
	if w.phase == phaseStopping {
		c.Send([]byte("The talker is shutting down; please try again in a minute.\r\n"))
		w.closeConn(c)
		c.Start()
		return
	}
	if w.cfg.MaxPerAddress > 0 && w.perAddr[c.Addr] >= w.cfg.MaxPerAddress {
		w.refusal("too many from this address", c.Addr).Str("addr", c.Addr).Int("limit", w.cfg.MaxPerAddress).Msg("connection refused: too many from this address")
		c.Send([]byte("Too many connections from your address; please close one and try again.\r\n"))
		w.closeConn(c)
		c.Start()
		return
	}
	if b := w.siteBan(c.Addr); b != nil {
		w.refusal("banned site", c.Addr).Str("addr", c.Addr).Str("ban", b.Pattern).Msg("connection refused: banned site")
		// Not a session yet, so no println: strip what println would.
		c.Send([]byte(text.StripColour(text.StripControls(siteBanMessage(w, b))) + "\r\n"))
		w.closeConn(c)
		c.Start()
		return
	}
	now := w.cfg.Now()
	s := &Session{ID: c.ID, conn: c, Addr: c.Addr, ConnectedAt: now, LastInput: now, Telnet: telnet.NewState(), clock: w.cfg.Now}
	w.sessions[s.ID] = s
	w.perAddr[s.Addr]++
	w.holdConn(c)
	w.touch(s)
	w.log.Info().Uint64("conn", s.ID).Str("addr", s.Addr).Msg("connected")
	s.sendRaw(s.Telnet.Open())
	w.offerMCCP(s) // mccp.go
	// greeting.go: once the client has said what it is
	w.startGreeting(s)
	if w.paused() {
		// Accepted just before a reboot paused the listener: the
		// connection starts, greeting and all, in whichever generation
		// carries on.
		return
	}
	c.Start()
}

// refusal returns the event to log a refused connection of a kind on, or nil
// (on which zerolog's methods do nothing) if one of that kind was logged in
// the last 10 s: a connect loop would otherwise add a ~175-byte line a
// connection. Those are counted, and summed up in one "connections refused"
// line when the window ends.
func (w *World) refusal(kind, addr string) *zerolog.Event {
	if w.refusals == nil {
		log := w.log // the summary may be logged from its timer's goroutine
		w.refusals = logging.NewSummary(10*time.Second, w.cfg.Now, func(c logging.Count[string]) {
			log.Warn().Str("kind", c.Key).Int("count", c.Count).Int("addrs", c.Distinct).
				Time("since", c.Start).Dur("window", c.Window).Msg("connections refused")
		})
	}
	if !w.refusals.Note(kind, addr) {
		return nil
	}
	return w.log.Warn()
}

func (w *World) input(in conn.Input) {
	s := w.sessions[in.Conn.ID]
	if s == nil || s.conn != in.Conn {
		return // already gone (quit, taken over, dropped)
	}
	if in.Conn.WebSocket() {
		w.touch(s)    // its framing state moved on: the checkpoint follows (webstate.go)
		w.webOffer(s) // a resume token for the page (webresume.go)
	}
	if in.Stopped {
		if w.pause != nil {
			delete(w.pause.readers, s.ID)
		}
		return
	}
	if in.Closed != nil {
		ev := w.log.Info()
		if errors.Is(in.Closed, conn.ErrBacklog) {
			ev = w.log.Warn().Str("addr", s.Addr)
		}
		ev.Uint64("conn", s.ID).Str("player", s.name()).Err(in.Closed).Msg("connection closed")
		if !w.goLinkDead(s, in.Closed) {
			w.remove(s, closeConnectionLost)
		}
		return
	}
	if in.Flood {
		w.log.Warn().Uint64("conn", s.ID).Str("addr", s.Addr).Str("player", s.name()).Msg("disconnected for flooding")
		s.println("You have been disconnected for flooding.")
		w.closeSession(s, closeFlooding)
		return
	}
	w.noteInput(s, &in) // journal.go
	if len(s.held) > 0 {
		// Earlier input is waiting: this waits behind it.
		s.held = append(s.held, in.Events...)
	} else {
		w.feed(s, in.Events)
	}
	if w.sessions[s.ID] == s {
		w.boundHeld(s)
	}
}

// feed handles a session's input events in order, holding back in s.held
// everything from the first one that must wait: while a password is being
// checked (handled once the answer is in), and during a reboot whatever
// the next generation is to handle instead (mustDefer).
func (w *World) feed(s *Session, evs []telnet.Event) {
	for i, ev := range evs {
		if s.checking || w.mustDefer(s) || ev.Kind == telnet.EventLine && !s.turns.take(w.cfg.Limits, w.cfg.Now()) {
			s.held = append(s.held, evs[i:]...)
			return
		}
		w.event(s, ev)
		if w.sessions[s.ID] != s {
			return // the event ended the session (quit)
		}
	}
}

// mustDefer says whether a session's next input must wait for the end of a
// reboot. Once connections are pausing, all of it does (unless the new
// binary is an older build: see startQuiesce): input already queued for
// the world is carried to the next generation rather than handled here, so
// the pause never waits for the world to catch up. Before that, while a
// reboot is under way, only a line that would start a password check
// waits, so that none is running when the pause begins.
func (w *World) mustDefer(s *Session) bool {
	if w.pause != nil {
		return w.pause.carry
	}
	return w.phase == phaseRebooting && s.Login.Stage.startsHash()
}

// replayHeld handles, for every session, the input held back that no
// longer has to wait.
func (w *World) replayHeld() {
	for _, s := range w.sessions {
		w.replay(s)
	}
}

// replay handles the input s held back, as far as it may go now (feed
// holds back again whatever must still wait: a password check, a reboot,
// the line rate's next turn).
func (w *World) replay(s *Session) {
	if len(s.held) == 0 || s.checking || w.mustDefer(s) {
		return
	}
	held := s.held
	s.held = nil
	w.feed(s, held)
}

// event handles one decoded telnet event for a session.
func (w *World) event(s *Session, ev telnet.Event) {
	w.touch(s)
	switch ev.Kind {
	case telnet.EventLine:
		if w.skipPoison(s, ev.Line) { // journal.go
			return
		}
		w.journalRunning(s, ev.Line)
		w.greetIfPending(s, true) // greeting.go: typed ahead of it
		s.LastInput = w.cfg.Now()
		if ev.Truncated > 0 {
			s.println("Your line was too long and was cut short.")
		}
		w.line(s, ev.Line)
		if w.sessions[s.ID] == s && s.Player != nil {
			w.gmcpStatus(s) // AFK or idle may have changed (gmcp.go)
		}
	case telnet.EventNegotiation, telnet.EventSubneg:
		wasGMCP := gmcpClient(s)
		reply, changed := s.Telnet.Handle(ev, w.mssp)
		if s.room != nil && gmcpClient(s) != wasGMCP {
			s.room.recountGMCP() // rooms.go
		}
		s.sendRaw(reply)
		w.followMCCP(s)             // mccp.go: a DO or DONT COMPRESS2 switches the output
		w.gmcpEvent(s, ev, changed) // gmcp.go
		w.greetIfPending(s, false)  // greeting.go: the terminal type may be known now
	case telnet.EventCommand:
		w.telnetCommand(s, ev.Verb)
	}
}

// line dispatches one input line by the session's stage.
func (w *World) line(s *Session, raw []byte) {
	switch {
	case s.Player == nil:
		w.loginLine(s, raw)
	case s.Login.Stage != StagePlaying:
		w.passwordLine(s, raw) // at a prompt of 'password' or 'deleteaccount'
	case s.Editor != nil:
		w.editorLine(s, raw) // writing a mail or a description (editor.go)
	case s.Pager != nil:
		w.pagerLine(s, raw) // reading long output a page at a time (pager.go)
	default:
		w.command(s, raw)
	}
}

func (w *World) tick(now time.Time) {
	w.ticks++
	if w.cfg.Heartbeat != nil {
		w.cfg.Heartbeat(w.ticks)
	}
	if w.phase == phasePaused {
		return // a handoff is in progress: nothing may change
	}
	w.tickCountdowns(now)
	for _, s := range w.sessions {
		// Lines waiting for their turn under the line rate get it now.
		if w.replay(s); w.sessions[s.ID] != s {
			continue
		}
		w.keepalive(s, now)
		w.mccpTick(s) // mccp.go: the angel's copy of a moved compressed stream
		w.gmcpTick(s) // idle minutes, a rank changed by staff (gmcp.go)
		w.greetIfPending(s, false)
		if s.Player == nil {
			if !s.checking && now.Sub(s.ConnectedAt) > w.cfg.LoginTimeout {
				s.println("\r\nLogin timed out. Goodbye.")
				w.closeSession(s, closeLoginTimeout)
			}
			continue
		}
		if w.cfg.IdleTimeout > 0 && now.Sub(s.LastInput) > w.cfg.IdleTimeout {
			s.println("You have been idle too long and are being disconnected. Goodbye!")
			w.closeSession(s, closeIdleTimeout)
		}
	}
	w.guard.expire(now)
	w.expireNewbies(now)
	w.expireLinkDead(now)
}

// closeSession ends a session deliberately: output already queued is sent
// first, then the connection closes.
func (w *World) closeSession(s *Session, reason closeReason) {
	w.endCapture(s) // what the command that ends it said ('quit')
	w.remove(s, reason)
	w.closeConn(s.conn)
}

// remove takes a session out of the world: a playing session is logged out
// (saved, removed from its room, announced).
func (w *World) remove(s *Session, reason closeReason) {
	if s.linkDead != nil {
		w.endLinkDead(s, reason) // no connection: only the player to log out
		return
	}
	if w.sessions[s.ID] != s {
		return
	}
	delete(w.sessions, s.ID)
	delete(w.dirty, s.ID)
	if w.holder != nil {
		w.holder.Drop(s.ID)
	}
	if w.pause != nil {
		delete(w.pause.readers, s.ID)
	}
	if w.perAddr[s.Addr]--; w.perAddr[s.Addr] <= 0 {
		delete(w.perAddr, s.Addr)
	}
	if s.Player != nil && w.online[s.Player.Key()] == s {
		w.logout(s, reason)
	}
}

// logout saves a player and takes them out of the world.
func (w *World) logout(s *Session, reason closeReason) {
	p := s.Player
	now := w.cfg.Now()
	p.TimeOnline += now.Sub(s.LoggedInAt)
	if !comesAndGoesUnseen(p) { // invis.go
		p.LastSeen = now
	}
	// When everyone is being disconnected (shutdown, restart), nobody needs
	// to hear about each departure: that would cost N² lines.
	quiet := w.phase == phaseStopping || reason.everyone()
	if s.room != nil {
		p.Room = s.room.ID
		s.room.remove(s)
		w.gmcpLeft(s, s.room) // gmcp.go
		if !quiet && len(s.room.Members) < w.cfg.AnnounceAll {
			w.toRoom(s.room, s, leftTalkerText(p))
		}
	}
	delete(w.online, p.Key())
	w.unindexFriends(s)
	if !quiet {
		w.announceLogin(s, false)
	}
	w.save(p)
	w.log.Info().Str("player", p.Name).Stringer("reason", reason).Msg("logged out")
}

// save writes a player's record, logging (not failing) on error: a failed
// save must not take a player's session down with it.
func (w *World) save(p *player.Player) {
	if err := w.store.SavePlayer(p); err != nil {
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not save player")
	}
}

// playing returns the logged-in sessions in name order.
func (w *World) playing() []*Session {
	out := make([]*Session, 0, len(w.online))
	for _, s := range w.online {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Player.Name < out[j].Player.Name })
	return out
}

// toOnline tells everyone logged in something (not conversation: no
// timestamps), rendered once per style of listener.
func (w *World) toOnline(msg string) {
	lines := newLineCache(msg, false)
	for _, s := range w.online {
		lines.sendTo(s)
	}
}

// toRoom sends a line to everyone in a room except one session (nil for
// nobody).
func (w *World) toRoom(r *Room, except *Session, msg string) {
	lines := newLineCache(msg, true)
	for _, m := range r.Members {
		if m != except && !w.hiddenFrom(m, except) { // the line is about except (invis.go)
			lines.sendTo(m)
		}
	}
}

// findOnline finds a logged-in player by name or unique name prefix.
func (w *World) findOnline(name string) (*Session, string) {
	key := player.Key(name)
	if key == "" {
		return nil, "Who?"
	}
	if s := w.online[key]; s != nil {
		return s, ""
	}
	var found *Session
	for k, s := range w.online {
		if len(k) >= len(key) && k[:len(key)] == key {
			if found != nil {
				return nil, "'" + name + "' could be more than one person; type more of the name."
			}
			found = s
		}
	}
	if found == nil {
		return nil, "Nobody called '" + name + "' is logged in."
	}
	return found, ""
}

// nextConnID is the id the next accepted connection will get.
func (w *World) nextConnID() uint64 { return w.connIDs.Load() }

// reportPanic hands a connection goroutine's panic to the world.
func (w *World) reportPanic(p conn.Panic) {
	select {
	case w.events <- p:
	case <-w.stopped:
	}
}

// boundHeld keeps the lines a session has waiting within MaxQueuedLines:
// the rest are not taken, and the player is told plainly which.
func (w *World) boundHeld(s *Session) {
	lines, cut := 0, -1
	for i, ev := range s.held {
		if ev.Kind == telnet.EventLine {
			if lines++; lines > w.cfg.MaxQueuedLines && cut < 0 {
				cut = i
			}
		}
	}
	if cut < 0 {
		return
	}
	refused := lines - w.cfg.MaxQueuedLines
	first := text.Clean(s.held[cut].Line)
	if len(first) > 40 {
		first = first[:40] + "..."
	}
	s.held = s.held[:cut]
	s.println("*** You typed faster than " + strconv.FormatFloat(w.cfg.Limits.LineRate, 'g', -1, 64) +
		" lines a second and more than " + itoa(w.cfg.MaxQueuedLines) + " lines were waiting: the last " +
		plural(refused, "line") + ", from '" + first + "' on, were not taken. Please send them again.")
	w.log.Warn().Uint64("conn", s.ID).Str("player", s.name()).Int("refused", refused).Msg("input past the queue bound refused")
}
