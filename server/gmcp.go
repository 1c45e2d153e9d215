package server

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"strings"
	"time"

	"talker/server/telnet"
	"talker/server/text"
	"talker/state"
)

// GMCP, the world's side: the talker's messages to clients that agreed to
// GMCP (telnet option 201) and listed the module in Core.Supports (the
// telnet layer, server/telnet/gmcp.go, keeps the module set and answers
// Core.Ping). What is sent, in IRE's spellings, which Mudlet and other
// clients match exactly:
//
//	Char.Name             {"name":"Alice","fullname":"Alice the brave"}       at login
//	Char.Status           {"name":"Alice","rank":"resident","idle":0,"afk":false}
//	                      at login and whenever rank, idle minutes or AFK change
//	Comm.Channel.Text     {"channel":"say","talker":"Alice","text":"Alice says 'hi'"}
//	Comm.Channel.Players  [{"name":"Alice","channels":["shout"]}]              on request
//	Room.Info             {"num":…,"id":"lounge","name":"The Lounge","exits":{"garden":…},"players":["Alice"]}
//	Room.Players          [{"name":"Alice","fullname":"Alice the brave"}]    with Room.Info
//	Room.AddPlayer        {"name":"Bob","fullname":"Bob"}                   to the others in the room
//	Room.RemovePlayer     "Bob"
//
// Every message goes through the session's normal output queue, so it is
// ordered with the text lines around it. Text in messages is what the
// player sees, without colour codes or timestamps, cleaned of control
// characters (text.Clean), so nothing reaches a client's scripts that
// could not be shown on its screen.

// maxGMCPIn is how many bytes of a GMCP message from a client are logged
// when it is malformed.
const maxGMCPIn = 80

// gmcpSession is a session's GMCP bookkeeping that is not carried: what
// can be worked out again after a reboot (status, the last Char.Status
// sent, is taken to be the current one then, since the client has it).
type gmcpSession struct {
	status *charStatus
}

// charStatus is the body of Char.Status.
type charStatus struct {
	Name       string `json:"name"`
	Rank       string `json:"rank"`
	Idle       int    `json:"idle"` // whole minutes since the player last typed
	AFK        bool   `json:"afk"`
	AFKMessage string `json:"afkMessage,omitempty"`
}

type gmcpPlayer struct {
	Name     string `json:"name"`
	Fullname string `json:"fullname"`
}

type roomInfo struct {
	Num     uint32            `json:"num"` // Mudlet's mapper keys rooms on an integer: a hash of the id
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Exits   map[string]uint32 `json:"exits"` // exit's room id → its num
	Players []string          `json:"players"`
}

type channelText struct {
	Channel string `json:"channel"`
	Talker  string `json:"talker"`
	Text    string `json:"text"`
}

type channelPlayer struct {
	Name     string   `json:"name"`
	Channels []string `json:"channels"`
}

// gmcpFrame encodes one GMCP message. body nil sends none.
func gmcpFrame(name string, body any) []byte {
	if body == nil {
		return telnet.AppendGMCP(nil, name, nil)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" stays "<": clients show the text, no browser involved
	if err := enc.Encode(body); err != nil {
		return nil // only our own structs are encoded: cannot happen
	}
	return telnet.AppendGMCP(nil, name, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// gmcpWants reports whether s is a playing session whose client wants the
// GMCP messages called name.
func (s *Session) gmcpWants(name string) bool {
	return s.Player != nil && s.Telnet.GMCPSupports(name)
}

// gmcpSend sends s the GMCP message name if its client wants it.
func (w *World) gmcpSend(s *Session, name string, body any) {
	if s.gmcpWants(name) {
		s.sendRaw(gmcpFrame(name, body))
	}
}

// gmcpOnce is one GMCP message for many sessions, encoded at most once
// (a line said in a crowded room reaches every member).
type gmcpOnce struct {
	name  string
	body  any
	frame []byte
}

func (g *gmcpOnce) sendTo(s *Session) {
	if !s.gmcpWants(g.name) {
		return
	}
	if g.frame == nil {
		g.frame = gmcpFrame(g.name, g.body)
	}
	s.sendRaw(g.frame)
}

// gmcpText is text as a GMCP message carries it: colour codes and control
// characters removed, one line.
func gmcpText(s string) string {
	return text.Clean([]byte(text.StripColour(s)))
}

// gmcpVisible says whether about appears in what GMCP tells to about
// others (room and channel players, comings and goings): not an invisible
// member of staff to a lower rank, as in 'who' and 'look' (invis.go).
func (w *World) gmcpVisible(to, about *Session) bool { return !w.hiddenFrom(to, about) }

// gmcpChannelText sends to the GMCP message Comm.Channel.Text, if its
// client asked for Comm: channel is the channel's name ("say", "tell",
// "shout", "emote", "whisper", or a talker channel's own name), talker the
// name of who spoke, text the whole line exactly as to is shown it
// (colour codes and control characters are removed here). Call it next to
// the line itself, so that the two arrive together.
func (w *World) gmcpChannelText(to *Session, channel, talker, line string) {
	if to.gmcpWants("Comm.Channel.Text") {
		to.sendRaw(gmcpFrame("Comm.Channel.Text", channelText{channel, gmcpText(talker), gmcpText(line)}))
	}
}

// gmcpChannelOnce is Comm.Channel.Text for many recipients of one line.
func gmcpChannelOnce(channel, talker, line string) *gmcpOnce {
	return &gmcpOnce{name: "Comm.Channel.Text", body: channelText{channel, gmcpText(talker), gmcpText(line)}}
}

func gmcpPlayerOf(s *Session) gmcpPlayer {
	return gmcpPlayer{Name: s.Player.Name, Fullname: gmcpText(displayName(s.Player))}
}

func (w *World) statusOf(s *Session) charStatus {
	st := charStatus{Name: s.Player.Name, Rank: s.Player.Rank.String(),
		Idle: int(w.cfg.Now().Sub(s.LastInput) / time.Minute), AFK: s.AFK}
	if s.AFK {
		st.AFKMessage = gmcpText(s.AFKMessage)
	}
	return st
}

// gmcpLogin sends Char.Name and Char.Status to a player who has just
// come into the world (the room follows as they enter it).
func (w *World) gmcpLogin(s *Session) {
	w.gmcpSend(s, "Char.Name", gmcpPlayerOf(s))
	s.gmcp.status = nil
	w.gmcpStatus(s)
}

// gmcpStatus sends Char.Status if it changed since the last one sent (or
// none was).
func (w *World) gmcpStatus(s *Session) {
	if !s.gmcpWants("Char.Status") {
		return
	}
	st := w.statusOf(s)
	if s.gmcp.status != nil && *s.gmcp.status == st {
		return
	}
	s.gmcp.status = &st
	w.gmcpSend(s, "Char.Status", st)
}

// gmcpTick is the per-second look at a session: idle minutes, and a rank
// changed by someone else.
func (w *World) gmcpTick(s *Session) {
	if s.Player != nil && s.Telnet.GMCPOn() {
		w.gmcpStatus(s)
	}
}

// gmcpRestored takes note of a session carried across a reboot or a crash:
// its client has had its Char.Status already, so only a change is sent.
func (w *World) gmcpRestored(s *Session) {
	if s.gmcpWants("Char.Status") {
		st := w.statusOf(s)
		s.gmcp.status = &st
	}
}

func roomNum(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32() & 0x7fffffff // Mudlet stores room numbers as signed ints
}

// gmcpRoom sends Room.Info and Room.Players for s's room.
func (w *World) gmcpRoom(s *Session) {
	r := s.room
	if r == nil || !s.gmcpWants("Room") {
		return
	}
	info := roomInfo{Num: roomNum(r.ID), ID: r.ID, Name: gmcpText(r.Name), Exits: map[string]uint32{}, Players: []string{}}
	for _, id := range r.Exits {
		if dest := w.rooms[id]; dest != nil {
			info.Exits[dest.ID] = roomNum(dest.ID)
		}
	}
	players := []gmcpPlayer{}
	for _, m := range r.Members {
		if m.Player != nil && (m == s || w.gmcpVisible(s, m)) {
			info.Players = append(info.Players, m.Player.Name)
			players = append(players, gmcpPlayerOf(m))
		}
	}
	w.gmcpSend(s, "Room.Info", info)
	w.gmcpSend(s, "Room.Players", players)
}

// gmcpMoved tells the GMCP clients concerned that s left from (nil if
// nowhere) and entered s.room: Room.RemovePlayer to those left behind,
// Room.AddPlayer to those there, and Room.Info with Room.Players to s.
func (w *World) gmcpMoved(s *Session, from *Room) {
	if from != nil && from != s.room {
		w.gmcpLeft(s, from)
	}
	if r := s.room; r != nil && r.gmcp > 0 {
		add := &gmcpOnce{name: "Room.AddPlayer", body: gmcpPlayerOf(s)}
		for _, m := range r.Members {
			if m != s && w.gmcpVisible(m, s) {
				add.sendTo(m)
			}
		}
	}
	w.gmcpRoom(s)
}

// gmcpLeft sends Room.RemovePlayer to the GMCP clients in r, which s has
// left (or the talker).
func (w *World) gmcpLeft(s *Session, r *Room) {
	if r.gmcp == 0 {
		return // no member's client can want it (rooms.go)
	}
	gone := &gmcpOnce{name: "Room.RemovePlayer", body: s.Player.Name}
	for _, m := range r.Members {
		if m != s && w.gmcpVisible(m, s) {
			gone.sendTo(m)
		}
	}
}

// gmcpChannels lists the channels s hears, for Comm.Channel.Players:
// "shout" unless they wear earmuffs. Talker channels add their names here.
func (w *World) gmcpChannels(s *Session) []string {
	chans := []string{}
	if !s.Player.Earmuffs {
		chans = append(chans, "shout")
	}
	return chans
}

// gmcpChannelPlayers answers a client's Comm.Channel.Players request:
// everyone online, sorted by name, with the channels each hears.
func (w *World) gmcpChannelPlayers(s *Session) {
	if !s.gmcpWants("Comm.Channel.Players") {
		return
	}
	keys := make([]string, 0, len(w.online))
	for k, o := range w.online {
		if o == s || w.gmcpVisible(s, o) {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	list := make([]channelPlayer, 0, len(keys))
	for _, k := range keys {
		o := w.online[k]
		list = append(list, channelPlayer{Name: o.Player.Name, Channels: w.gmcpChannels(o)})
	}
	w.gmcpSend(s, "Comm.Channel.Players", list)
}

// gmcpEvent follows a negotiation or subnegotiation the telnet state has
// handled (changed is what Handle reported): a client that lists modules
// while playing gets their current messages at once, and GMCP messages
// beyond Core are answered here. A malformed message is logged and
// otherwise ignored.
func (w *World) gmcpEvent(s *Session, ev telnet.Event, changed telnet.Change) {
	if changed&telnet.ChangedGMCP != 0 && s.Player != nil && s.Login.Stage == StagePlaying {
		w.gmcpRefresh(s)
	}
	if ev.Kind != telnet.EventSubneg || ev.Option != telnet.OptGMCP || !s.Telnet.GMCPOn() {
		return
	}
	name, body, ok := telnet.ParseGMCP(ev.Data)
	if ok && body != nil && !json.Valid(body) {
		ok = false
	}
	if !ok {
		w.log.Info().Uint64("conn", s.ID).Str("player", s.name()).
			Str("message", text.Clean([]byte(text.Truncate(string(ev.Data), maxGMCPIn)))).Msg("malformed GMCP message ignored")
		return
	}
	switch strings.ToLower(name) {
	case "comm.channel.players":
		if s.Player != nil {
			w.gmcpChannelPlayers(s)
		}
	}
}

// gmcpRefresh sends everything the client now supports: after
// Core.Supports while playing.
func (w *World) gmcpRefresh(s *Session) {
	w.gmcpSend(s, "Char.Name", gmcpPlayerOf(s))
	s.gmcp.status = nil
	w.gmcpStatus(s)
	w.gmcpRoom(s)
}

// clientLine describes a session's client for staff ('examine'): what it
// calls itself over GMCP or TTYPE, and the GMCP modules it asked for.
func (s *Session) clientLine() string {
	var parts []string
	if g := s.Telnet.GMCP; g != nil && g.Client != "" {
		parts = append(parts, strings.TrimSpace(g.Client+" "+g.Version))
	} else if s.Telnet.ClientName != "" {
		parts = append(parts, s.Telnet.ClientName)
	}
	if s.Telnet.Terminal != "" {
		parts = append(parts, "terminal "+s.Telnet.Terminal)
	}
	if s.Telnet.GMCPOn() {
		if mods := s.Telnet.GMCPModules(); len(mods) > 0 {
			parts = append(parts, "GMCP "+strings.Join(mods, ", "))
		} else {
			parts = append(parts, "GMCP")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Client: " + strings.Join(parts, "; ") + "."
}

// gmcpCarried says whether a session carries GMCP state only state format
// version 7 reads (see needsVersion7).
func (s *Session) gmcpCarried() bool { return s.Telnet.GMCP != nil }

func gmcpToWire(g *telnet.GMCP) *state.GMCP {
	if g == nil {
		return nil
	}
	return &state.GMCP{Client: g.Client, Version: g.Version, Modules: cloneModules(g.Modules)}
}

func gmcpFromWire(g *state.GMCP) *telnet.GMCP {
	if g == nil {
		return nil
	}
	return &telnet.GMCP{Client: g.Client, Version: g.Version, Modules: cloneModules(g.Modules)}
}

func cloneModules(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
