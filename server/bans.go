package server

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"talker/player"
	"talker/server/store"
)

// Bans refuse a site (an address or a CIDR range) at connect, or a name at
// the name prompt, for good or until they expire. They are stored in the
// database and held in memory (World.bans) so that checking a connection
// costs no query; the world loads them when it starts.

const metaNewbiesClosed = "newbies_closed" // "1" while registration is refused

func (w *World) loadBans() error {
	bans, err := w.store.Bans()
	if err != nil {
		return err
	}
	w.bans = bans
	return nil
}

// activeBans drops expired bans (from memory and the database) and returns
// the rest.
func (w *World) activeBans() []store.Ban {
	now := w.cfg.Now()
	kept := w.bans[:0]
	for _, b := range w.bans {
		if b.Expired(now) {
			if err := w.store.RemoveBan(b.ID); err != nil {
				w.log.Error().Err(err).Msg("could not remove an expired ban")
			}
			continue
		}
		kept = append(kept, b)
	}
	w.bans = kept
	return kept
}

// siteBan returns the ban that covers an address, if any.
func (w *World) siteBan(addr string) *store.Ban {
	if len(w.bans) == 0 {
		return nil
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil
	}
	ip = ip.Unmap()
	now := w.cfg.Now()
	for i := range w.bans {
		b := &w.bans[i]
		if b.Kind == store.BanSite && !b.Expired(now) && siteMatches(b.Pattern, ip) {
			return b
		}
	}
	return nil
}

// nameBan returns the ban on a name, if any.
func (w *World) nameBan(name string) *store.Ban {
	key, now := player.Key(name), w.cfg.Now()
	for i := range w.bans {
		b := &w.bans[i]
		if b.Kind == store.BanName && b.Pattern == key && !b.Expired(now) {
			return b
		}
	}
	return nil
}

// parseSite reads an address or a CIDR range into the canonical form bans
// are stored in ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32").
func parseSite(s string) (string, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked().String(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

func siteMatches(pattern string, ip netip.Addr) bool {
	if p, err := netip.ParsePrefix(pattern); err == nil {
		return p.Contains(ip)
	}
	a, err := netip.ParseAddr(pattern)
	return err == nil && a == ip
}

// parseBanLength reads how long a ban lasts: a number and a unit (s, m, h,
// d or w: "30m", "2h", "7d"), or "perm" for good (0).
func parseBanLength(s string) (time.Duration, bool) {
	s = strings.ToLower(s)
	if s == "perm" || s == "permanent" || s == "forever" {
		return 0, true
	}
	if len(s) < 2 {
		return 0, false
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	unit, ok := units[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if !ok || err != nil || n <= 0 || n > 1000000 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// banTerms says why and for how long, for the refusal messages.
func banTerms(w *World, b *store.Ban) string {
	var out string
	if b.Reason != "" {
		out += " (" + b.Reason + ")"
	}
	if b.ExpiresAt.IsZero() {
		return out + "."
	}
	return out + ". The ban ends in " + ago(b.ExpiresAt.Sub(w.cfg.Now()).Round(time.Second)) + "."
}

func siteBanMessage(w *World, b *store.Ban) string {
	return "Sorry, connections from your address are banned from " + w.cfg.Name + banTerms(w, b)
}

func nameBanMessage(w *World, b *store.Ban) string {
	return "Sorry, the name " + strings.ToUpper(b.Pattern[:1]) + b.Pattern[1:] + " is banned from " + w.cfg.Name + banTerms(w, b)
}

func newbiesClosedMessage(w *World) string {
	return "Sorry, " + w.cfg.Name + " is not accepting new players right now. Please try again later, or log in with an existing name."
}
