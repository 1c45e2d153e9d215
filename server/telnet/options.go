package telnet

// Q is the RFC 1143 state of one option on one side. The numeric values are
// part of the serialised format and must never be renumbered.
type Q uint8

// Q-method states. RFC 1143 keeps a separate queue bit that is only
// meaningful while WANTNO or WANTYES; here it is folded into the state, so
// QWantNoOpposite is "WANTNO, queue OPPOSITE" and so on.
const (
	QNo              Q = iota // disabled
	QYes                      // enabled
	QWantNo                   // we sent a disable request and await the answer
	QWantYes                  // we sent an enable request and await the answer
	QWantNoOpposite           // as QWantNo, and re-enable once the answer arrives
	QWantYesOpposite          // as QWantYes, and disable once the answer arrives
)

// String returns the RFC 1143 name of q.
func (q Q) String() string {
	switch q {
	case QNo:
		return "NO"
	case QYes:
		return "YES"
	case QWantNo:
		return "WANTNO"
	case QWantYes:
		return "WANTYES"
	case QWantNoOpposite:
		return "WANTNO/OPPOSITE"
	case QWantYesOpposite:
		return "WANTYES/OPPOSITE"
	}
	return "Q(?)"
}

// Side selects which end of the connection performs an option.
type Side uint8

// Sides, in RFC 1143's terms.
const (
	SideUs  Side = iota // we (the server) perform it: we send WILL/WONT, the client DO/DONT
	SideHim             // the client performs it: we send DO/DONT, the client WILL/WONT
)

// Options is an RFC 1143 option table for both sides of a connection. Only
// options not in state QNo are stored, so the table stays tiny (it never
// holds more than the handful of options the policy accepts) and serialises
// compactly; the zero Options has every option disabled.
type Options struct {
	Us  map[byte]Q `json:"us,omitempty"`  // options we perform
	Him map[byte]Q `json:"him,omitempty"` // options the client performs
}

// Get returns the state of opt on side.
func (o *Options) Get(side Side, opt byte) Q {
	if side == SideUs {
		return o.Us[opt]
	}
	return o.Him[opt]
}

// Enabled reports whether opt is agreed (QYes) on side.
func (o *Options) Enabled(side Side, opt byte) bool {
	return o.Get(side, opt) == QYes
}

func (o *Options) set(side Side, opt byte, q Q) {
	m := &o.Us
	if side == SideHim {
		m = &o.Him
	}
	if q == QNo {
		delete(*m, opt)
		return
	}
	if *m == nil {
		*m = make(map[byte]Q)
	}
	(*m)[opt] = q
}

// verbs returns the positive and negative verb we send for side.
func verbs(side Side) (yes, no byte) {
	if side == SideUs {
		return WILL, WONT
	}
	return DO, DONT
}

// Request asks for opt on side to be enabled or disabled, following RFC
// 1143. It returns the verb to send (append IAC verb opt), or 0 when nothing
// must be sent: the option is already in (or queued for) the wanted state,
// or a negotiation is in flight and the request was queued behind it.
func (o *Options) Request(side Side, opt byte, enable bool) (send byte) {
	yes, no := verbs(side)
	q := o.Get(side, opt)
	if enable {
		switch q {
		case QNo:
			o.set(side, opt, QWantYes)
			return yes
		case QWantNo:
			o.set(side, opt, QWantNoOpposite)
		case QWantYesOpposite:
			o.set(side, opt, QWantYes)
		}
		return 0
	}
	switch q {
	case QYes:
		o.set(side, opt, QWantNo)
		return no
	case QWantYes:
		o.set(side, opt, QWantYesOpposite)
	case QWantNoOpposite:
		o.set(side, opt, QWantNo)
	}
	return 0
}

// Receive applies a WILL, WONT, DO or DONT for opt received from the client
// (WILL/WONT concern SideHim, DO/DONT SideUs). accept is our policy: whether
// we agree to enable the option if the client asks for it unprompted; it is
// consulted only in state QNo. Receive returns the verb to answer with (0 if
// none; a request that does not change state is never answered, which is
// what prevents loops) and the option's state before and after.
func (o *Options) Receive(verb, opt byte, accept bool) (send byte, from, to Q) {
	side := SideHim
	if verb == DO || verb == DONT {
		side = SideUs
	}
	yes, no := verbs(side)
	from = o.Get(side, opt)
	to = from
	if verb == WILL || verb == DO {
		switch from {
		case QNo:
			if accept {
				to, send = QYes, yes
			} else {
				send = no
			}
		case QWantNo: // error: our disable answered by enable
			to = QNo
		case QWantNoOpposite, QWantYes:
			to = QYes
		case QWantYesOpposite:
			to, send = QWantNo, no
		}
	} else {
		switch from {
		case QYes:
			to, send = QNo, no
		case QWantNo, QWantYes, QWantYesOpposite:
			to = QNo
		case QWantNoOpposite:
			to, send = QWantYes, yes
		}
	}
	if to != from {
		o.set(side, opt, to)
	}
	return send, from, to
}
