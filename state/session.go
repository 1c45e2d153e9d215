package state

import "time"

// Session is one connection's record: everything a new generation needs to
// carry on a session on the socket it is handed.
//
// Three forms travel. A checkpoint record (the angel's, and a staged one) is
// what the world alone may read at any time: FD -1, Conn zero, no Held. A
// full record, read with the connection's goroutines frozen, adds Conn (the
// half-typed line, the throttle, unsent output) and Held. A Staged record,
// at a reboot's pause, is only ID, FD, Conn and Held: the rest is the
// record staged with the socket, unchanged since.
type Session struct {
	ID          uint64    `json:"ID"`
	FD          int       `json:"FD"` // index into the handed-over descriptors (see Snapshot.SessionFDs)
	Addr        string    `json:"Addr"`
	ConnectedAt time.Time `json:"ConnectedAt"`
	LastInput   time.Time `json:"LastInput"`
	Telnet      Telnet    `json:"Telnet"`
	Conn        Carried   `json:"Conn"`
	Login       Login     `json:"Login"`
	Player      *Player   `json:"Player,omitempty"` // nil until logged in
	LoggedInAt  time.Time `json:"LoggedInAt"`
	AFK         bool      `json:"AFK"`
	AFKMessage  string    `json:"AFKMessage"`
	ReplyTo     string    `json:"ReplyTo"` // key of the last player who sent this one a tell
	Room        string    `json:"Room"`    // the room's id
	// TellReview is the session's recap buffer: its last tells, remotes
	// and whispers, sent and received.
	TellReview []ReviewLine `json:"TellReview,omitempty"`
	// Held is input received and decoded but not yet handled, in order:
	// the next generation handles it before anything the client sends
	// after the reboot (version 4).
	Held []Event `json:"Held,omitempty"`
	// Staged marks a record that carries only ID, FD, Conn and Held
	// (version 4).
	Staged bool `json:"Staged,omitempty"`
	// Pager is the output of a command the player is reading a page at a
	// time, and Editor the text they are typing line by line (version 6):
	// nil when they are not.
	Pager  *Pager  `json:"Pager,omitempty"`
	Editor *Editor `json:"Editor,omitempty"`
	// GreetPending: the greeting waits for the client's terminal type
	// (server/greeting.go; version 7).
	GreetPending bool `json:"GreetPending,omitempty"`
	// ResumeDigest is the hex SHA-256 of the session's resume token, if
	// one was issued (version 7): a client presenting the token takes the
	// session over without its password. Never the token itself.
	ResumeDigest string `json:"ResumeDigest,omitempty"`
	// Compress is the output's MCCP2 compression as the angel's
	// checkpoint saw it (compress.go; version 7): only in its records.
	Compress *Compress `json:"Compress,omitempty"`
	// Converse: every line the player types is said, a line starting
	// with '/' or '.' is a command; LastCommand is the line '.' repeats
	// (version 7; both optional).
	Converse    bool   `json:"Converse,omitempty"`
	LastCommand string `json:"LastCommand,omitempty"`
	// WebSocket marks a browser client's connection, with its framing
	// state as of the checkpoint (websocket.go; version 7).
	WebSocket *WebSocket `json:"WebSocket,omitempty"`
	// Inflate is the input's MCCP3 state as the angel's checkpoint saw
	// it (inflate.go; version 7): only in its records.
	Inflate *Inflate `json:"Inflate,omitempty"`
}

// Pager is a command's output being read a page at a time: its lines as
// they were rendered for the player (colour and wrapping applied), and the
// first line of the page on the screen.
type Pager struct {
	Lines []string `json:"Lines"`
	Top   int      `json:"Top"`
}

// Editor is a text being written line by line: what it is for (Target:
// "mail" or "desc"), the recipient of a mail (To, a player's name) and the
// lines typed so far.
type Editor struct {
	Target string   `json:"Target"`
	To     string   `json:"To,omitempty"`
	Lines  []string `json:"Lines,omitempty"`
}

// Telnet is the negotiated telnet state (package telnet's State).
type Telnet struct {
	Options       Options `json:"options"`
	Width         int     `json:"width,omitempty"` // NAWS
	Height        int     `json:"height,omitempty"`
	ClientName    string  `json:"clientName,omitempty"` // first TTYPE reply
	Terminal      string  `json:"terminal,omitempty"`   // second TTYPE reply
	MTTS          int     `json:"mtts,omitempty"`
	TTypeRequests int     `json:"ttypeRequests,omitempty"`
	TTypeReplies  int     `json:"ttypeReplies,omitempty"`
	TTypeDone     bool    `json:"ttypeDone,omitempty"`
	Charset       string  `json:"charset,omitempty"`
	PasswordMode  bool    `json:"passwordMode,omitempty"`
	GMCP          *GMCP   `json:"gmcp,omitempty"` // version 7 (gmcp.go); nil when the client said nothing over GMCP
}

// Options is the RFC 1143 table: option code → Q state (0 NO, 1 YES,
// 2 WANTNO, 3 WANTYES, 4 WANTNO/OPPOSITE, 5 WANTYES/OPPOSITE), for options
// not in state NO.
type Options struct {
	Us  map[uint8]uint8 `json:"us,omitempty"`  // options the server performs
	Him map[uint8]uint8 `json:"him,omitempty"` // options the client performs
}

// Carried is what a connection hands over besides its socket (package
// conn's Carried).
type Carried struct {
	Decoder  Decoder  `json:"Decoder"`
	Throttle Throttle `json:"Throttle"`
	Unsent   []byte   `json:"Unsent"` // output queued and not yet written
	// Compress is the output's MCCP2 compression, exact (compress.go;
	// version 7).
	Compress *Compress `json:"Compress,omitempty"`
	// TLS is a TLS connection's record layer (tls.go; version 7).
	TLS *TLS `json:"TLS,omitempty"`
	// WebSocket is a browser client's framing state, exact (version 7);
	// Unsent is then whole frames.
	WebSocket *WebSocket `json:"WebSocket,omitempty"`
	// Decompress is the input's MCCP3 state, exact (inflate.go; version
	// 7).
	Decompress *Inflate `json:"Decompress,omitempty"`
	// InputAt is the socket's absolute input offset the Decoder is at: in
	// a full record, exact; in a checkpoint record, that of the last batch
	// the world took (committed to the crash journal), whose Decoder is
	// the reader's there. 0: not known (older builds).
	InputAt uint64 `json:"InputAt,omitempty"`
}

// Decoder is the telnet decoder's state: where it is in a sequence, and
// the partial line.
type Decoder struct {
	Mode       uint8  `json:"mode,omitempty"`     // 0 data, 1 IAC, 2 verb, 3 SB option, 4 SB, 5 SB IAC
	Verb       uint8  `json:"verb,omitempty"`     // mode 2: the verb awaiting its option
	SBOption   uint8  `json:"sbOption,omitempty"` // the subnegotiation being collected
	SB         []byte `json:"sb,omitempty"`
	SBOverflow bool   `json:"sbOverflow,omitempty"`
	Line       []byte `json:"line,omitempty"` // the half-typed line
	Truncated  int    `json:"truncated,omitempty"`
	CR         bool   `json:"cr,omitempty"`
	MaxLine    int    `json:"maxLine,omitempty"`
	MaxSB      int    `json:"maxSB,omitempty"`
}

// Throttle is the input rate limiter's buckets.
type Throttle struct {
	LineTokens float64   `json:"LineTokens"`
	ByteTokens float64   `json:"ByteTokens"`
	Last       time.Time `json:"Last"`
	Dropped    int       `json:"Dropped"`
}

// Login is the progress through the login exchange.
type Login struct {
	// Stage: 0 name, 1 password, 2 confirm new, 3 new password, 4 confirm
	// password, 5 playing; from version 5, with a Player: 6 old password,
	// 7 new password, 8 new password again ('password'), 9 password to
	// delete the account; without: 10 new password, 11 again (after a
	// one-time password). Salt and Digest hold the first entry of a new
	// password (3-4, 7-8, 10-11).
	Stage    uint8  `json:"Stage"`
	Name     string `json:"Name"`
	Failures int    `json:"Failures"`
	Salt     string `json:"Salt,omitempty"`
	Digest   string `json:"Digest,omitempty"`
}

// Player is a logged-in player's account (package player's Player).
type Player struct {
	Name         string               `json:"Name"`
	PasswordHash string               `json:"PasswordHash"`
	Rank         int                  `json:"Rank"`
	Title        string               `json:"Title"`
	Description  string               `json:"Description"`
	Room         string               `json:"Room"`
	Home         string               `json:"Home"`
	CreatedAt    time.Time            `json:"CreatedAt"`
	LastSeen     time.Time            `json:"LastSeen"`
	LastAddress  string               `json:"LastAddress"`
	Logins       int                  `json:"Logins"`
	TimeOnline   time.Duration        `json:"TimeOnline"`
	Colour       bool                 `json:"Colour"`
	Prompt       bool                 `json:"Prompt"`
	PromptText   string               `json:"PromptText"`
	Timestamps   bool                 `json:"Timestamps"`
	Earmuffs     bool                 `json:"Earmuffs"`
	EnterMsg     string               `json:"EnterMsg"`
	ExitMsg      string               `json:"ExitMsg"`
	Gagged       bool                 `json:"Gagged"`
	Jailed       bool                 `json:"Jailed"`
	Lists        map[string]ListEntry `json:"Lists,omitempty"` // by the other player's key
	// Pager is the page length the player set: 0 the client's height,
	// -1 no paging (written by builds of version 6 on; older ones leave
	// it out, and the database keeps it).
	Pager int `json:"Pager,omitempty"`
	// ColourChosen: Colour is the player's choice (else colour follows the
	// client). ScreenReader: 0 as the client says, 1 on, 2 off. Both
	// optional: a build before them ignores them, and a record without
	// them means "not chosen".
	ColourChosen bool  `json:"ColourChosen,omitempty"`
	ScreenReader uint8 `json:"ScreenReader,omitempty"`
	// Wrap is the width the player set by hand (0: the client's);
	// Invisible, a member of staff hidden from lower ranks; then the
	// profile 'examine' shows (version 7; all optional).
	Wrap        int    `json:"Wrap,omitempty"`
	Invisible   bool   `json:"Invisible,omitempty"`
	Plan        string `json:"Plan,omitempty"`
	Gender      string `json:"Gender,omitempty"`
	Email       string `json:"Email,omitempty"`
	EmailPublic bool   `json:"EmailPublic,omitempty"`
	URL         string `json:"URL,omitempty"`
	// Aliases are the player's command aliases by name, and Channels the
	// talk channels they belong to (version 7; optional).
	Aliases  map[string]string `json:"Aliases,omitempty"`
	Channels []string          `json:"Channels,omitempty"`
}

// ListEntry is what a player has said about another (friend, ignore,
// invite).
type ListEntry struct {
	Name   string `json:"Name"`
	Friend bool   `json:"Friend"`
	Ignore uint8  `json:"Ignore"` // bits: 1 tells, 2 shouts, 4 room
	Invite bool   `json:"Invite"`
}

// Event is one decoded telnet event (package telnet's Event).
type Event struct {
	Kind      uint8  `json:"Kind"` // 1 line, 2 negotiation, 3 subnegotiation, 4 command
	Line      []byte `json:"Line"`
	Truncated int    `json:"Truncated"`
	Verb      uint8  `json:"Verb"`
	Option    uint8  `json:"Option"`
	Data      []byte `json:"Data"`
}

// ReviewLine is one line of a review or recap buffer.
type ReviewLine struct {
	At   time.Time `json:"At"`
	From string    `json:"From,omitempty"`
	Text string    `json:"Text"`
}
