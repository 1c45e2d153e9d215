package load

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	verdict := "PASS"
	if !rep.OK {
		verdict = "FAIL"
	}
	if rep.Interrupted {
		verdict += " (interrupted)"
	}
	cfg := rep.Config
	p("talker load run: %s\n", verdict)
	mode := "attached"
	if rep.Talker.Managed {
		mode = "managed"
	}
	pids := make([]string, len(rep.Talker.PIDs))
	for i, x := range rep.Talker.PIDs {
		pids[i] = fmt.Sprint(x)
	}
	p("  started %s; talker %s (%s, pid %s)\n", rep.Started.Format("2006-01-02 15:04:05"), rep.Talker.Addr, mode, orNone(strings.Join(pids, " -> ")))
	p("  %d clients in %d room(s), %.3g lines/s each, %gs, %s typing", cfg.Clients, cfg.Rooms, cfg.Rate, cfg.Duration, cfg.Typing)
	if cfg.Typing == TypeBytewise {
		p(" (%g ms between bytes)", cfg.ByteGapMs)
	}
	p(", ~%d-byte lines, fd limit %d\n", cfg.LineBytes, cfg.FDLimit)
	if len(cfg.Events) > 0 {
		p("  events: %s\n", strings.Join(cfg.Events, ", "))
	}
	p("\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	t := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	l := rep.Logins
	t("logins\t%d of %d in %.1fs (%.0f/s); %d registered, %d failed, %d reconnects\n", l.LoggedIn, l.Clients,
		rep.Phases.LoginEnd-rep.Phases.LoginStart, l.PerSecond, l.Registered, l.Failed, l.Reconnects)
	ln := rep.Lines
	t("lines\t%d sent, %d aborted; own echoes %d of %d (%d lost, %d duplicated); %d missed ticks\n",
		ln.Sent, ln.Aborted, ln.Echoes, ln.EchoExpected, ln.EchoLost, ln.EchoDuplicates, ln.Missed)
	d := rep.Deliveries
	t("deliveries\t%d expected, %d received, %d lost (%d to disconnects), %d duplicated, %d unexpected, %d bad tokens\n",
		d.Expected, d.Received, d.Lost, d.LostToDisconnect, d.Duplicated, d.Unexpected, d.BadTokens)
	t("disconnects\t%d\n", len(rep.Disconnects))
	th := rep.Throughput
	t("throughput\t%.0f deliveries/s (peak %.0f), %.1f lines/s, %.2f MB/s received\n",
		th.DeliveriesPerSec, th.PeakDeliveriesPerSec, th.LinesPerSec, th.MBPerSec)
	t("echo latency\t%s\n", latText(rep.EchoLatency))
	t("delivery latency\t%s\n", latText(rep.DeliveryLatency))
	r := rep.Resources
	t("talker memory\tRSS %s before clients, %s with all logged in (%.1f KB per connection), peak %s, end %s\n",
		mb(r.RSSBaselineKB), mb(r.RSSLoadedKB), r.RSSPerConnKB, mb(r.RSSPeakKB), mb(r.RSSEndKB))
	t("talker fds\t%d before clients, %d loaded, peak %d\n", r.FDBaseline, r.FDLoaded, r.FDPeak)
	t("cpu\ttalker %.1f%% of a core, load generator %.1f%% (over the workload)\n", r.TalkerCPUPercent, r.LoadgenCPUPercent)
	tw.Flush()

	if len(rep.Events) > 0 {
		p("\nevents (windows by line send time; 'during' is start to end + settle)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		t("#\tkind\tstart s\tdur s\texit\tok\tpid\tconn before\tconn after\tdisc\tmax pause ms\t(client)\tbaseline ms\tfds\t\n")
		for i, e := range rep.Events {
			pid := fmt.Sprint(e.PIDBefore)
			if e.PIDAfter != e.PIDBefore {
				pid += "->" + fmt.Sprint(e.PIDAfter)
			}
			pause := func(p Pause) string {
				if p.Ms == 0 {
					return fmt.Sprintf("<%g", cfg.PauseFine)
				}
				return fmt.Sprintf("%.0f", p.Ms)
			}
			t("%d\t%s\t%.2f\t%.2f\t%d\t%v\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d->%d\t\n", i+1, e.Kind, e.Start, e.Duration,
				e.ExitStatus, yes(e.OK), pid, e.ConnectedBefore, e.ConnectedAfter, e.DisconnectsDuring,
				pause(e.MaxPause), e.MaxPause.Name, pause(e.BaselinePause), e.FDBefore, e.FDAfter)
		}
		tw.Flush()
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		t("#\twindow\tlines\tlost\techo p50\tp90\tp99\tmax\tdelivery p50\tp99\tmax ms\t\n")
		for i, e := range rep.Events {
			for _, w := range []struct {
				name string
				w    Window
			}{{"before", e.Before}, {"during", e.During}, {"after", e.After}} {
				t("%d\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", i+1, w.name, w.w.Lines, w.w.Lost, w.w.Echo.P50, w.w.Echo.P90,
					w.w.Echo.P99, w.w.Echo.Max, w.w.Delivery.P50, w.w.Delivery.P99, w.w.Delivery.Max)
			}
		}
		tw.Flush()
		if hasPhases(rep.Events) {
			p("\nwhere the pause went (ms, as the talker reported it; exec and staging happen before the pause; thaw, after\nthe pause players were told of, and all resumed, since the pause began, from DATA/log/talker.log)\n")
			tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
			t("#\texec\tstaging\tquiesce\tsnapshot\thandoff\trestore\tpaused\tthaw\tall resumed\t\n")
			for i, e := range rep.Events {
				if ph := e.Phases; ph != nil {
					thaw, all := "-", "-" // from the talker's log: not found
					if ph.AllResumed > 0 {
						thaw, all = fmt.Sprintf("%.1f", ph.Thaw), fmt.Sprintf("%.1f", ph.AllResumed)
					}
					t("%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n", i+1, ph.Exec, ph.Staged, ph.Quiesce,
						ph.Snapshot, ph.Handoff, ph.Restore, ph.Paused, thaw, all)
				}
			}
			tw.Flush()
		}
		for i, e := range rep.Events {
			if e.Error != "" || e.Note != "" || (!e.OK && e.Output != "") {
				p("event %d: %s%s\n", i+1, e.Error, e.Note)
				if e.Output != "" {
					p("  output: %s\n", strings.TrimSpace(firstLines(e.Output, 5)))
				}
			}
		}
	}
	if len(rep.Disconnects) > 0 {
		p("\ndisconnects (first 10):\n")
		for _, x := range rep.Disconnects[:min(10, len(rep.Disconnects))] {
			p("  %.2fs client %d (%s): %s\n", x.At, x.Client, x.Name, x.Error)
		}
	}
	var worst []Recipient
	for _, x := range rep.Recipients {
		if x.Lost > 0 || x.Duplicated > 0 || x.EchoLost > 0 {
			worst = append(worst, x)
		}
	}
	if len(worst) > 0 {
		sort.Slice(worst, func(i, j int) bool { return worst[i].Lost+worst[i].Duplicated > worst[j].Lost+worst[j].Duplicated })
		p("\nrecipients with losses or duplicates (%d; worst 10):\n", len(worst))
		for _, x := range worst[:min(10, len(worst))] {
			p("  %s (%s): expected %d, received %d, lost %d, duplicated %d, own echoes lost %d\n",
				x.Name, x.Room, x.Expected, x.Received, x.Lost, x.Duplicated, x.EchoLost)
		}
		if n := len(d.LostLines); n > 0 {
			first, last := d.LostLines[0], d.LostLines[n-1]
			p("  lines that lost deliveries: %d listed, sent from %.2fs (%s) to %.2fs (%s)\n", n, first.Sent, first.Token, last.Sent, last.Token)
		}
		if len(d.LostSamples) > 0 {
			p("  lost, e.g.: %s\n", strings.Join(d.LostSamples, "; "))
		}
		if len(d.DuplicateSamples) > 0 {
			p("  duplicated, e.g.: %s\n", strings.Join(d.DuplicateSamples, "; "))
		}
	}
	if len(rep.Logins.Errors) > 0 {
		p("\nlogin errors (first %d):\n", len(rep.Logins.Errors))
		for _, e := range rep.Logins.Errors {
			p("  %s\n", e)
		}
	}
	if len(rep.Talker.Exits) > 0 || rep.Talker.StopSeconds > 0 {
		p("\n")
		if rep.Talker.StopSeconds > 0 {
			p("talker stopped %.2fs after SIGTERM\n", rep.Talker.StopSeconds)
		}
		p("%s\n", strings.Join(rep.Talker.Exits, "\n"))
	}
	if len(rep.Failures) > 0 {
		p("\nfailures:\n")
		for _, f := range rep.Failures {
			p("  - %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func latText(l Latency) string {
	if l.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %.2f ms, p90 %.2f, p99 %.2f, max %.2f (%d lines)", l.P50, l.P90, l.P99, l.Max, l.Count)
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n  ")
}

// hasPhases reports whether any event has a reboot's phases to show.
func hasPhases(events []EventReport) bool {
	for _, e := range events {
		if e.Phases != nil {
			return true
		}
	}
	return false
}
