package server

import (
	"slices"
	"strings"

	"talker/player"
	"talker/server/store"
)

// Talk channels: named groups whose members hear each other wherever they
// are, as PG+'s channels and NUTS's spod channels. Anyone may make one by
// joining it ('channel join gossip'); it lasts while it has members, and
// keeps its last lines (channelHistory) for 'channel history'. The staff
// channel is every member of staff, without joining ('su', 'se', 'st', as
// PG+ has them).
//
// Membership is stored (store/channels.go) and is the player's
// (Player.Channels), carried by reboots and checkpoints; a channel's
// history is in the database only, so it survives anything the database
// does.

// Bounds: history lines kept per channel (what 'channel history' shows),
// channels a player may belong to, and a channel name's length.
const (
	channelHistory    = 50
	maxPlayerChannels = 10
	maxChannelName    = 12
	staffChannel      = "staff"
)

// isChannelWord reports whether name is a 'channel' subcommand, which no
// channel may be called, so that 'channel list' is never a line said on a
// channel.
func isChannelWord(name string) bool {
	switch name {
	case "join", "leave", "list", "history", "who", staffChannel:
		return true
	}
	return false
}

func channelCommands() []*command {
	return []*command{
		{name: "channel", aliases: []string{"ch", "chan"}, category: "Talking",
			usage:   "channel [join|leave|history|who] <name> | channel list | channel <name> <message>",
			summary: "talk on channels: groups that hear each other anywhere",
			help: "Channels are groups who hear each other wherever they are. 'channel join gossip' joins the gossip " +
				"channel (and makes it, if nobody is on it), 'channel leave gossip' leaves it, 'channel list' lists the " +
				"channels and yours, 'channel who gossip' shows who on it is here. 'ch gossip hello' says hello on it, " +
				"'ch gossip :waves' emotes. 'channel history gossip' shows its last " + itoa(channelHistory) + " lines. " +
				"You can be on " + itoa(maxPlayerChannels) + " channels; you stay on them when you log out. Someone who " +
				"ignores your shouts does not hear you on a channel. Earmuffs do not stop channels: leave one to stop " +
				"hearing it.",
			run: (*World).cmdChannel},
		{name: "su", minRank: player.Staff, talk: true, category: "Staff", usage: "su [<message>]",
			summary: "say something on the staff channel",
			help:    "Every member of staff online hears it, wherever they are. 'su' alone shows the staff channel's last lines. 'se' emotes on it and 'st' thinks.",
			run:     (*World).cmdStaffSay},
		{name: "se", minRank: player.Staff, talk: true, category: "Staff", usage: "se <action>",
			summary: "emote on the staff channel",
			help:    "Like 'su', as an emote: 'se nods' shows [staff] Alice nods.",
			run:     (*World).cmdStaffEmote},
		{name: "st", minRank: player.Staff, talk: true, category: "Staff", usage: "st <thought>",
			summary: "think on the staff channel",
			help:    "Like 'su', as a thought: 'st hmm' shows [staff] Alice thinks . o O ( hmm ).",
			run:     (*World).cmdStaffThink},
	}
}

// channelName is a typed channel name made canonical, or "" with the
// reason it cannot be one.
func channelName(typed string) (string, string) {
	name := strings.ToLower(strings.TrimSpace(typed))
	if len(name) < 2 || len(name) > maxChannelName {
		return "", "A channel's name is 2 to " + itoa(maxChannelName) + " letters and digits."
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", "A channel's name is 2 to " + itoa(maxChannelName) + " letters and digits."
		}
	}
	return name, ""
}

// onChannel reports whether the player hears a channel.
func onChannel(p *player.Player, channel string) bool {
	if channel == staffChannel {
		return p.Rank >= player.Staff
	}
	return slices.Contains(p.Channels, channel)
}

func (w *World) cmdChannel(s *Session, args string) {
	sub, rest, _ := strings.Cut(args, " ")
	sub, rest = strings.ToLower(sub), strings.TrimSpace(rest)
	switch sub {
	case "":
		w.myChannels(s)
	case "join":
		w.joinChannel(s, rest)
	case "leave":
		w.leaveChannel(s, rest)
	case "list":
		w.listChannels(s)
	case "history":
		w.channelHistoryOf(s, rest)
	case "who":
		w.channelWho(s, rest)
	default:
		name, why := channelName(sub)
		if why != "" {
			s.println(why)
			return
		}
		if rest == "" {
			usage(s, "channel", w)
			return
		}
		if !onChannel(s.Player, name) {
			s.println("You are not on the '" + name + "' channel: 'channel join " + name + "' joins it.")
			return
		}
		if s.Player.Gagged {
			s.println("You have been gagged: you cannot talk to anyone until a member of staff ungags you.")
			return
		}
		if s.Player.Jailed && name != staffChannel {
			s.println("Nobody can hear you from the jail.")
			return
		}
		w.channelTalk(s, name, rest)
	}
}

// channelTalk says (or, with a leading ':', emotes) msg on a channel.
func (w *World) channelTalk(s *Session, channel, msg string) {
	if action, ok := strings.CutPrefix(msg, ":"); ok && strings.TrimSpace(action) != "" {
		line := emoteText(s.Player.Name, strings.TrimSpace(action))
		w.channelSend(s, channel, line, line)
		return
	}
	you, they := sayVerb(msg)
	w.channelSend(s, channel, "You "+you+" '"+msg+"'", s.Player.Name+" "+they+" '"+msg+"'")
}

// channelSend delivers a channel line: self to the speaker, others to
// every member online who does not ignore the speaker's shouts (staff
// cannot be ignored, as everywhere), each rendered for its listener. The
// line goes into the channel's history.
func (w *World) channelSend(from *Session, channel, self, others string) {
	tag := "[" + channel + "] "
	from.hear(tag + self)
	w.gmcpChannelText(from, channel, from.Player.Name, tag+self) // gmcp.go: Comm.Channel.Text
	lines := newLineCache(tag+others, true)
	gm := gmcpChannelOnce(channel, from.Player.Name, tag+others)
	for _, o := range w.online {
		if o != from && onChannel(o.Player, channel) && !w.ignoring(o, from, player.IgnoreShouts) {
			lines.sendTo(o)
			gm.sendTo(o)
		}
	}
	err := w.store.AddChannelLine(channel, store.ChannelLine{At: w.cfg.Now(), From: from.Player.Key(), Text: others}, channelHistory)
	if err != nil {
		w.log.Error().Err(err).Str("channel", channel).Msg("could not keep channel history")
	}
}

func (w *World) cmdStaffSay(s *Session, args string) {
	if args == "" {
		w.channelHistoryOf(s, staffChannel)
		return
	}
	w.channelTalk(s, staffChannel, args)
}

func (w *World) cmdStaffEmote(s *Session, args string) {
	if args == "" {
		usage(s, "se", w)
		return
	}
	line := emoteText(s.Player.Name, args)
	w.channelSend(s, staffChannel, line, line)
}

func (w *World) cmdStaffThink(s *Session, args string) {
	if args == "" {
		usage(s, "st", w)
		return
	}
	line := s.Player.Name + " thinks . o O ( " + args + " )"
	w.channelSend(s, staffChannel, line, line)
}

func (w *World) myChannels(s *Session) {
	var mine []string
	if s.Player.Rank >= player.Staff {
		mine = append(mine, staffChannel)
	}
	mine = append(mine, s.Player.Channels...)
	if len(mine) == 0 {
		s.println("You are on no channels. 'channel list' shows them; 'channel join <name>' joins or makes one.")
		return
	}
	s.println("Your channels: " + strings.Join(mine, ", ") + ". 'ch <name> <message>' talks on one.")
}

func (w *World) joinChannel(s *Session, typed string) {
	name, why := channelName(typed)
	switch {
	case typed == "":
		usage(s, "channel", w)
		return
	case name == staffChannel:
		s.println("The staff channel is every member of staff: nobody joins it.")
		return
	case why != "":
		s.println(why)
		return
	case isChannelWord(name):
		s.println("'" + name + "' is a word of the channel command; a channel cannot be called that.")
		return
	case onChannel(s.Player, name):
		s.println("You are already on the '" + name + "' channel.")
		return
	case len(s.Player.Channels) >= maxPlayerChannels:
		s.println("You are on " + itoa(maxPlayerChannels) + " channels, the most you can be on: leave one first.")
		return
	}
	if err := w.store.JoinChannel(s.Player.Key(), name); err != nil {
		w.log.Error().Err(err).Str("player", s.Player.Name).Msg("could not join channel")
		s.println("You could not join the channel; please try again later.")
		return
	}
	s.Player.Channels = append(s.Player.Channels, name)
	slices.Sort(s.Player.Channels)
	s.println("You join the '" + name + "' channel. 'ch " + name + " <message>' talks on it.")
	w.channelNotice(s, name, s.Player.Name+" joins the channel.")
}

func (w *World) leaveChannel(s *Session, typed string) {
	name, why := channelName(typed)
	switch {
	case typed == "":
		usage(s, "channel", w)
		return
	case name == staffChannel:
		s.println("The staff channel is every member of staff: nobody leaves it.")
		return
	case why != "":
		s.println(why)
		return
	case !onChannel(s.Player, name):
		s.println("You are not on the '" + name + "' channel.")
		return
	}
	if err := w.store.LeaveChannel(s.Player.Key(), name); err != nil {
		w.log.Error().Err(err).Str("player", s.Player.Name).Msg("could not leave channel")
		s.println("You could not leave the channel; please try again later.")
		return
	}
	s.Player.Channels = slices.DeleteFunc(slices.Clone(s.Player.Channels), func(c string) bool { return c == name })
	if len(s.Player.Channels) == 0 {
		s.Player.Channels = nil
	}
	s.println("You leave the '" + name + "' channel.")
	w.channelNotice(s, name, s.Player.Name+" leaves the channel.")
}

// channelNotice tells a channel's other members online about a member.
func (w *World) channelNotice(s *Session, channel, msg string) {
	lines := newLineCache("["+channel+"] "+msg, true)
	for _, o := range w.online {
		if o != s && onChannel(o.Player, channel) && !w.ignoring(o, s, player.IgnoreShouts) {
			lines.sendTo(o)
		}
	}
}

func (w *World) listChannels(s *Session) {
	counts, err := w.store.ChannelCounts()
	if err != nil {
		w.log.Error().Err(err).Msg("could not list channels")
		s.println("The channels cannot be listed just now; please try again later.")
		return
	}
	if len(counts) == 0 && s.Player.Rank < player.Staff {
		s.println("There are no channels yet. 'channel join <name>' makes one.")
		return
	}
	online := map[string]int{}
	for _, o := range w.online {
		for _, c := range o.Player.Channels {
			online[c]++
		}
	}
	s.println("Channels (* you are on it):")
	if s.Player.Rank >= player.Staff {
		n := 0
		for _, o := range w.online {
			if o.Player.Rank >= player.Staff {
				n++
			}
		}
		s.println("* " + pad(staffChannel, maxChannelName+1) + "every member of staff, " + itoa(n) + " here now")
	}
	for _, c := range counts {
		mark := "  "
		if onChannel(s.Player, c.Channel) {
			mark = "* "
		}
		s.println(mark + pad(c.Channel, maxChannelName+1) + plural(c.Members, "member") + ", " + itoa(online[c.Channel]) + " here now")
	}
}

func (w *World) channelHistoryOf(s *Session, typed string) {
	name, why := channelName(typed)
	switch {
	case typed == "":
		usage(s, "channel", w)
		return
	case why != "":
		s.println(why)
		return
	case !onChannel(s.Player, name):
		s.println("You are not on the '" + name + "' channel: only its members see its history.")
		return
	}
	lines, err := w.store.ChannelHistory(name)
	if err != nil {
		w.log.Error().Err(err).Str("channel", name).Msg("could not read channel history")
		s.println("The channel's history cannot be read just now; please try again later.")
		return
	}
	var shown int
	for _, l := range lines {
		if w.ignoresKey(s, l.From) {
			continue
		}
		if shown == 0 {
			s.println("The last lines on the '" + name + "' channel:")
		}
		shown++
		s.println("[" + l.At.In(w.cfg.Now().Location()).Format("15:04") + "] [" + name + "] " + l.Text + "^N")
	}
	if shown == 0 {
		s.println("Nothing has been said on the '" + name + "' channel yet.")
	}
}

// ignoresKey reports whether s ignores the shouts of the player with key
// (who may be offline): their lines are left out of a channel's history.
func (w *World) ignoresKey(s *Session, key string) bool {
	if o := w.online[key]; o != nil {
		return w.ignoring(s, o, player.IgnoreShouts)
	}
	return s.Player.Ignores(key, player.IgnoreShouts)
}

func (w *World) channelWho(s *Session, typed string) {
	name, why := channelName(typed)
	switch {
	case typed == "":
		usage(s, "channel", w)
		return
	case why != "":
		s.println(why)
		return
	}
	var here []string
	for _, o := range w.playing() {
		if onChannel(o.Player, name) && !w.hiddenFrom(s, o) { // invis.go
			here = append(here, o.Player.Name)
		}
	}
	if len(here) == 0 {
		s.println("Nobody on the '" + name + "' channel is here.")
		return
	}
	s.println("On the '" + name + "' channel and here: " + strings.Join(here, ", ") + ".")
}

// communityCommands are the commands of channels, news, socials, aliases,
// converse mode and repeat (cmd_channels.go, cmd_news.go, socials.go,
// aliases.go, converse.go).
func communityCommands() []*command {
	var all []*command
	all = append(all, channelCommands()...)
	all = append(all, newsCommands()...)
	all = append(all, socialCommands()...)
	all = append(all, aliasCommands()...)
	all = append(all, converseCommands()...)
	return all
}
