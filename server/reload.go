package server

import (
	"errors"
	"fmt"
	"strings"

	"talker/config"
)

// A configuration reload re-reads the file the talker was started with
// (Config.ConfigFile) and puts the live settings in effect at once:
// every connection gets the new limits, the next login the new timeouts,
// the next announcement the new threshold. Settings that need the next
// reboot (listeners, logging, the reboot's own timeout) are reported and
// left as they are; the next reboot's new generation reads the file
// afresh. A file that does not check changes nothing.

// ReloadReport says what a reload did.
type ReloadReport struct {
	Applied    []config.Change   // now in effect
	AtReboot   []config.Change   // in the file, in effect after the next reboot
	Overridden []config.Override // flags that win over the file
}

// ErrNoConfigFile is returned by ReloadConfig for a talker started
// without a configuration file (by code, as in tests).
var ErrNoConfigFile = errors.New("this talker was not started with a configuration file")

// ReloadConfig re-reads the configuration file and applies what can change
// while the talker runs; by names who asked, for the log.
func (s *Server) ReloadConfig(by string) (ReloadReport, error) {
	if s.cfg.ConfigFile == "" {
		return ReloadReport{}, ErrNoConfigFile
	}
	next, err := config.Read(s.cfg.ConfigFile, s.cfg.Overrides)
	if err != nil {
		s.cfg.Log.Warn().Err(err).Str("by", by).Msg("configuration reload refused")
		return ReloadReport{}, err
	}
	var rep ReloadReport
	s.world.do(func(w *World) {
		if w.phase != phaseServing {
			err = fmt.Errorf("the talker is %s: reload when that is over", w.phase)
			return
		}
		rep = w.applySettings(next)
		if len(rep.Applied) > 0 {
			limits := w.cfg.Limits
			s.connLimits.Store(&limits)
		}
	})
	if err != nil {
		return ReloadReport{}, err
	}
	rep.Overridden = s.cfg.Overrides
	var keys []string
	for _, c := range rep.Applied {
		keys = append(keys, c.Key)
	}
	var later []string
	for _, c := range rep.AtReboot {
		later = append(later, c.Key)
	}
	s.cfg.Log.Info().Str("by", by).Strs("applied", keys).Strs("at_reboot", later).Msg("configuration reloaded")
	return rep, nil
}

// applySettings puts next's live settings in effect, on the world's
// goroutine. Only the live fields of the Config are written: the others
// (the ready timeout, say) are read by the reboot's and the control
// socket's goroutines.
func (w *World) applySettings(next config.Settings) ReloadReport {
	var rep ReloadReport
	limitsChanged := false
	for _, c := range config.Diff(w.cfg.Settings, next) {
		if c.When != config.Live {
			rep.AtReboot = append(rep.AtReboot, c)
			continue
		}
		rep.Applied = append(rep.Applied, c)
		limitsChanged = limitsChanged || strings.HasPrefix(c.Key, "limits.") || strings.HasPrefix(c.Key, "keepalive.tcp_")
	}
	eff := config.LiveFrom(w.cfg.Settings, next)
	c := w.cfg
	c.applyLive(eff)
	if limitsChanged {
		for _, s := range w.sessions {
			if s.conn != nil {
				s.conn.SetLimits(c.Limits)
			}
		}
	}
	return rep
}

// String is the report as admins read it, in-game and from the shell.
func (r ReloadReport) String() string {
	var b strings.Builder
	if len(r.Applied) == 0 {
		b.WriteString("Configuration reloaded: no setting that can change at once has changed.\n")
	} else {
		b.WriteString("Configuration reloaded. Now in effect:\n")
		for _, c := range r.Applied {
			fmt.Fprintf(&b, "  %s: %s -> %s\n", c.Key, show(c.Old), show(c.New))
		}
	}
	if len(r.AtReboot) > 0 {
		b.WriteString("Changed in the file, in effect after the next reboot:\n")
		for _, c := range r.AtReboot {
			fmt.Fprintf(&b, "  %s: %s -> %s\n", c.Key, show(c.Old), show(c.New))
		}
	}
	for _, o := range r.Overridden {
		fmt.Fprintf(&b, "  (%s is set by --%s=%s on the command line, which wins over the file)\n", o.Key, o.Flag, o.Value)
	}
	return strings.TrimRight(b.String(), "\n")
}

func show(v string) string {
	if v == "" {
		return `""`
	}
	return v
}
