package server

import (
	"errors"
	"strconv"
	"strings"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

// The news board (EW-too's 'news'): posts everyone can read, written in
// the editor (editor.go, target editNews, the subject in Editor.To, so a
// post half written is carried by reboots like a mail), kept in the
// database (store/news.go) with who has read which. The board keeps the
// newest maxNews posts.

// Bounds: posts kept (the oldest go first), and a subject's length.
const (
	maxNews        = 200
	maxNewsSubject = 60
)

// editNews is the editor's target for a news post.
const editNews = "news"

func newsCommands() []*command {
	return []*command{
		{name: "news", category: "Mail", usage: "news [read <n> | post <subject> | delete <n>]",
			summary: "read and post on the news board",
			help: "'news' lists the posts on the board, new ones (that you have not read) marked with '*'. 'news read 3' " +
				"(or 'news 3') reads post 3; 'news read' reads the oldest you have not read. 'news post <subject>' " +
				"writes a post in the editor (residents and above). The author of a post and staff can remove it with " +
				"'news delete <n>'. The board keeps the newest " + itoa(maxNews) + " posts.",
			run: (*World).cmdNews},
	}
}

func (w *World) cmdNews(s *Session, args string) {
	sub, rest, _ := strings.Cut(args, " ")
	sub, rest = strings.ToLower(sub), strings.TrimSpace(rest)
	switch sub {
	case "":
		w.listNews(s)
	case "read", "r":
		w.readNews(s, rest)
	case "post", "write":
		w.postNews(s, rest)
	case "delete", "remove", "del":
		w.deleteNews(s, rest)
	default:
		if _, err := strconv.Atoi(sub); err == nil {
			w.readNews(s, sub)
			return
		}
		usage(s, "news", w)
	}
}

func (w *World) listNews(s *Session) {
	items, err := w.store.News(s.Player.Key())
	if err != nil {
		w.log.Error().Err(err).Msg("could not list news")
		s.println("The news cannot be read just now; please try again later.")
		return
	}
	if len(items) == 0 {
		s.println("There is no news.")
		return
	}
	now, unread := w.cfg.Now(), 0
	s.println("News (* new to you):")
	for _, n := range items {
		mark := " "
		if !n.Read {
			mark = "*"
			unread++
		}
		s.println(mark + pad(itoa(int(n.ID)), 5) + n.Subject + "^N (" + n.Author + ", " + ago(now.Sub(n.PostedAt)) + " ago)")
	}
	s.println(plural(len(items), "post") + ", " + itoa(unread) + " new. 'news read <n>' reads one.")
}

func (w *World) readNews(s *Session, arg string) {
	var id int64
	if arg == "" {
		items, err := w.store.News(s.Player.Key())
		if err != nil {
			w.log.Error().Err(err).Msg("could not list news")
			s.println("The news cannot be read just now; please try again later.")
			return
		}
		for _, n := range items {
			if !n.Read {
				id = n.ID
				break
			}
		}
		if id == 0 {
			s.println("You have read all the news.")
			return
		}
	} else {
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n <= 0 {
			usage(s, "news", w)
			return
		}
		id = n
	}
	n, err := w.store.ReadNews(s.Player.Key(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.println("There is no news post " + itoa(int(id)) + ". 'news' lists them.")
		return
	}
	if err != nil {
		w.log.Error().Err(err).Msg("could not read news")
		s.println("The news cannot be read just now; please try again later.")
		return
	}
	s.println("News " + itoa(int(n.ID)) + ": " + n.Subject + "^N")
	s.println("From " + n.Author + ", " + n.PostedAt.In(w.cfg.Now().Location()).Format("2 Jan 2006 15:04") + ".")
	s.println("")
	s.println(n.Body + "^N")
}

func (w *World) postNews(s *Session, subject string) {
	if s.Player.Rank < player.Resident {
		s.println("Only residents and above can post news.")
		return
	}
	if s.Player.Gagged {
		s.println("You have been gagged: you cannot post news until a member of staff ungags you.")
		return
	}
	if subject == "" {
		s.println("Give the post a subject: 'news post <subject>'.")
		return
	}
	subject = text.Truncate(subject, maxNewsSubject)
	w.startEditor(s, editNews, subject, "news: "+subject)
}

// finishNews posts what the editor wrote (finishEditor).
func (w *World) finishNews(s *Session, subject, body string) {
	if body == "" {
		s.println("Your post was empty: nothing was posted.")
		return
	}
	n := &store.NewsItem{Author: s.Player.Name, PostedAt: w.cfg.Now(), Subject: subject, Body: body}
	if err := w.store.PostNews(n, maxNews); err != nil {
		w.log.Error().Err(err).Msg("could not post news")
		s.println("Your post could not be saved; please try again later.")
		return
	}
	// The author has read their own post.
	if _, err := w.store.ReadNews(s.Player.Key(), n.ID); err != nil {
		w.log.Error().Err(err).Msg("could not mark news read")
	}
	s.println("Posted as news " + itoa(int(n.ID)) + ".")
	lines := newLineCache("There is news: "+subject+"^N (from "+s.Player.Name+"). 'news read "+itoa(int(n.ID))+"' reads it.", false)
	for _, o := range w.online {
		if o != s && !w.ignoring(o, s, player.IgnoreShouts) {
			lines.sendTo(o)
		}
	}
}

func (w *World) deleteNews(s *Session, arg string) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		usage(s, "news", w)
		return
	}
	var author string
	items, err := w.store.News(s.Player.Key())
	if err != nil {
		w.log.Error().Err(err).Msg("could not list news")
		s.println("The news cannot be changed just now; please try again later.")
		return
	}
	for _, n := range items {
		if n.ID == id {
			author = n.Author
		}
	}
	switch {
	case author == "":
		s.println("There is no news post " + itoa(int(id)) + ".")
		return
	case player.Key(author) != s.Player.Key() && s.Player.Rank < player.Staff:
		s.println("Only its author and staff can remove a news post.")
		return
	}
	if err := w.store.DeleteNews(id); err != nil {
		w.log.Error().Err(err).Msg("could not delete news")
		s.println("The post could not be removed; please try again later.")
		return
	}
	if player.Key(author) != s.Player.Key() {
		w.staffLog(s, "news delete", author, "news "+itoa(int(id)))
	}
	s.println("News post " + itoa(int(id)) + " removed.")
}

// newsNotice tells a player logging in how much news they have not read.
func (w *World) newsNotice(s *Session) {
	n, err := w.store.UnreadNews(s.Player.Key())
	if err != nil {
		w.log.Error().Err(err).Msg("could not count news")
		return
	}
	if n > 0 {
		s.println("There " + map[bool]string{true: "is 1 news post", false: "are " + itoa(n) + " news posts"}[n == 1] +
			" you have not read. Type 'news' to list them.")
	}
}
