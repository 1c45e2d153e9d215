package server

import (
	"strconv"
	"strings"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

// Mail between residents, online or not, kept in the database. Messages
// are numbered from 1, oldest first, in each mailbox.

const (
	maxMailBody  = 1000
	maxMailboxes = 100 // messages one mailbox holds
	mailPreview  = 50
)

func mailCommands() []*command {
	return []*command{
		{name: "mail", category: "Mail", usage: "mail [send <name> [message] | read <n> | delete <n | all>]",
			summary: "send and read mail, to and from anyone whether on or not",
			help: "'mail' lists your messages (new ones marked *); 'mail read <n>' shows one and marks it read; " +
				"'mail delete <n>' deletes one and 'mail delete all' empties your mailbox. " +
				"'mail send <name> <message>' sends a one-line message to a resident, whether they are on or not: " +
				"they are told at once if they are on, and at their next log-in otherwise ('You have 1 new mail.'). " +
				"'mail send <name>' alone opens the editor for a longer one (up to " + itoa(maxMailLines) + " lines): type it a line at a time, " +
				"then a line with only '.' sends it; '.q' abandons it, '.l' lists it, '.d' deletes the last line, '.h' helps. " +
				"Residents can mail any resident; newbies can mail staff (to ask for residency, say) and get no mail themselves. " +
				"A mailbox holds " + itoa(maxMailboxes) + " messages; someone ignoring your tells gets none of your mail.",
			run: (*World).cmdMail},
	}
}

func (w *World) cmdMail(s *Session, args string) {
	sub, rest, _ := strings.Cut(args, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(sub) {
	case "", "list":
		w.mailList(s)
	case "send", "post":
		w.mailSend(s, rest)
	case "read":
		w.mailRead(s, rest)
	case "delete", "del", "remove":
		w.mailDelete(s, rest)
	default:
		usage(s, "mail", w)
	}
}

func (w *World) mailbox(s *Session) ([]store.Mail, bool) {
	box, err := w.store.Mailbox(s.Player.Key())
	if err != nil {
		w.log.Error().Err(err).Str("player", s.Player.Name).Msg("could not read mailbox")
		s.println("Sorry, your mail could not be read just now.")
		return nil, false
	}
	return box, true
}

func (w *World) mailList(s *Session) {
	box, ok := w.mailbox(s)
	if !ok {
		return
	}
	if len(box) == 0 {
		s.println("You have no mail.")
		return
	}
	unread := 0
	for _, m := range box {
		if !m.Read {
			unread++
		}
	}
	s.println("Your mail (" + plural(len(box), "message") + ", " + itoa(unread) + " new):")
	now := w.cfg.Now()
	for i, m := range box {
		mark := " "
		if !m.Read {
			mark = "*"
		}
		s.println(pad(strconv.Itoa(i+1), 3) + mark + " " + m.From + ", " + ago(now.Sub(m.SentAt)) + " ago: " + text.Truncate(strings.ReplaceAll(m.Body, "\n", " / "), mailPreview) + "^N")
	}
	s.println("'mail read <n>' reads one.")
}

// mailNumber finds message n (from 1) in the session's mailbox.
func (w *World) mailNumber(s *Session, arg string) (store.Mail, int, bool) {
	n, err := strconv.Atoi(arg)
	if err != nil {
		usage(s, "mail", w)
		return store.Mail{}, 0, false
	}
	box, ok := w.mailbox(s)
	if !ok {
		return store.Mail{}, 0, false
	}
	if n < 1 || n > len(box) {
		s.println("You have no message " + arg + ". ('mail' lists them.)")
		return store.Mail{}, 0, false
	}
	return box[n-1], n, true
}

func (w *World) mailRead(s *Session, arg string) {
	m, n, ok := w.mailNumber(s, arg)
	if !ok {
		return
	}
	s.println("Message " + itoa(n) + " from " + m.From + ", sent " + ago(w.cfg.Now().Sub(m.SentAt)) + " ago:")
	s.println(text.Guard(m.Body) + "^N")
	if !m.Read {
		if err := w.store.MarkMailRead(m.ID); err != nil {
			w.log.Error().Err(err).Msg("could not mark mail read")
		}
	}
}

func (w *World) mailDelete(s *Session, arg string) {
	if strings.EqualFold(arg, "all") {
		if err := w.store.DeleteAllMail(s.Player.Key()); err != nil {
			w.log.Error().Err(err).Msg("could not delete mail")
			s.println("Sorry, your mail could not be deleted just now.")
			return
		}
		s.println("Your mailbox is empty.")
		return
	}
	m, n, ok := w.mailNumber(s, arg)
	if !ok {
		return
	}
	if err := w.store.DeleteMail(s.Player.Key(), m.ID); err != nil {
		w.log.Error().Err(err).Msg("could not delete mail")
		s.println("Sorry, that message could not be deleted just now.")
		return
	}
	s.println("Message " + itoa(n) + " deleted.")
}

func (w *World) mailSend(s *Session, args string) {
	to, body, _ := strings.Cut(args, " ")
	body = strings.TrimSpace(body)
	if to == "" {
		usage(s, "mail", w)
		return
	}
	p, online, ok := w.mailRecipient(s, to)
	if !ok {
		return
	}
	if body == "" {
		// No message on the line: it is written in the editor.
		w.startEditor(s, editMail, p.Name, "mail to "+p.Name)
		return
	}
	w.deliverMail(s, p, online, text.Truncate(body, maxMailBody))
}

// mailRecipient finds the player a mail to 'to' goes to, telling the
// sender why not if it cannot go.
func (w *World) mailRecipient(s *Session, to string) (p *player.Player, online *Session, ok bool) {
	me := s.Player
	if me.Gagged {
		s.println("You have been gagged: you cannot send mail until a member of staff ungags you.")
		return nil, nil, false
	}
	p, online, msg := w.findPlayer(to)
	switch {
	case p == nil:
		s.println(msg)
		return nil, nil, false
	case p.Rank < player.Resident:
		s.println(p.Name + " is a newbie and cannot get mail yet.")
		return nil, nil, false
	case me.Rank < player.Resident && p.Rank < player.Staff:
		s.println("Newbies can send mail only to staff.")
		return nil, nil, false
	case me.Rank < player.Staff && p.Ignores(me.Key(), player.IgnoreTells):
		s.println(p.Name + " is ignoring you.")
		return nil, nil, false
	}
	return p, online, true
}

// deliverMail puts a mail in p's mailbox and tells them if they are on.
func (w *World) deliverMail(s *Session, p *player.Player, online *Session, body string) {
	me := s.Player
	total, _, err := w.store.CountMail(p.Key())
	if err == nil && total >= maxMailboxes {
		s.println(p.Name + "'s mailbox is full.")
		return
	}
	m := &store.Mail{To: p.Key(), From: me.Name, SentAt: w.cfg.Now(), Body: body}
	if err == nil {
		err = w.store.SendMail(m)
	}
	if err != nil {
		w.log.Error().Err(err).Str("to", p.Name).Msg("could not send mail")
		s.println("Sorry, your mail could not be sent just now.")
		return
	}
	s.println("Mail sent to " + p.Name + ".")
	if online != nil && online != s {
		online.hear("*** You have new mail from " + me.Name + ". Type 'mail' to list your messages.")
	}
}

// mailNotice tells a player who has just logged in about unread mail.
func (w *World) mailNotice(s *Session) {
	_, unread, err := w.store.CountMail(s.Player.Key())
	if err != nil {
		w.log.Error().Err(err).Msg("could not count mail")
		return
	}
	switch {
	case unread == 1:
		s.println("You have 1 new mail. Type 'mail' to list your messages.")
	case unread > 1:
		s.println("You have " + itoa(unread) + " new mails. Type 'mail' to list your messages.")
	}
}
