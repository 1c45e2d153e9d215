package server

import (
	"strconv"
	"strings"
)

// 'wrap': the width a player's text is wrapped at, set by hand (EW-too's
// linewrap, PG+'s 'set wrap'). Until they set one, or after 'wrap auto',
// it is the width their client reports (NAWS), or 80 columns if it reports
// none (Session.width). Stored with the player and carried by reboots.

const (
	minWrap = 20  // below this text is unreadable (text.Wrap's own floor)
	maxWrap = 500 // a very wide window; more is a typo
)

func wrapCommands() []*command {
	return []*command{
		{name: "wrap", aliases: []string{"linewrap", "wordwrap"}, category: "Yourself", usage: "wrap [<width> | auto]",
			summary: "set the width your text is wrapped at",
			help: "'wrap 70' wraps everything you are sent at 70 columns, whatever your window says; 'wrap auto' goes back to the width " +
				"your client reports (or 80 if it reports none). 'wrap' alone shows the width in use. Widths from " +
				strconv.Itoa(minWrap) + " to " + strconv.Itoa(maxWrap) + ".",
			run: (*World).cmdWrap},
	}
}

func (w *World) cmdWrap(s *Session, args string) {
	p := s.Player
	switch arg := strings.ToLower(strings.TrimSpace(args)); arg {
	case "":
		if p.Wrap > 0 {
			s.println("Your text is wrapped at " + itoa(p.Wrap) + " columns, as you set ('wrap auto' follows your window instead).")
		} else {
			s.println("Your text is wrapped at " + itoa(s.width()) + " columns, from your window ('wrap <width>' sets it by hand).")
		}
		return
	case "auto", "off", "0":
		p.Wrap = 0
		s.println("Your text is now wrapped to your window: " + itoa(s.width()) + " columns.")
	default:
		n, err := strconv.Atoi(arg)
		if err != nil || n < minWrap || n > maxWrap {
			s.println("The width is a number from " + itoa(minWrap) + " to " + itoa(maxWrap) + ", or 'auto'.")
			return
		}
		p.Wrap = n
		s.println("Your text is now wrapped at " + itoa(n) + " columns.")
	}
	w.save(p)
	w.touch(s)
}
