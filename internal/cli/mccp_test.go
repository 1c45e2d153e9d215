package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

// mccpOptions is a MUD client that agrees to MCCP2 and inflates with Go's
// zlib reader (talkertest's mccp.go).
var mccpOptions = talkertest.Options{Width: 200, Height: 50, MCCP: true,
	TTypes: []string{"TINTIN++", "XTERM-256COLOR", "MTTS 271"}}

// chatter says "say seq NNNN" on c every few milliseconds until stopped,
// and returns how many it said.
func chatter(c *talkertest.Client) (stop func() int) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	sent := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ; ; sent++ {
			select {
			case <-done:
				return
			default:
			}
			c.Send(fmt.Sprintf("say seq %04d", sent))
			time.Sleep(4 * time.Millisecond)
		}
	}()
	return func() int {
		close(done)
		wg.Wait()
		return sent
	}
}

// seqCounts counts each "Speaker says 'seq NNNN'" line in text.
func seqCounts(text string, n int) (missing, repeated []int) {
	for i := range n {
		switch strings.Count(text, fmt.Sprintf("Speaker says 'seq %04d'", i)) {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			repeated = append(repeated, i)
		}
	}
	return missing, repeated
}

// TestMCCPStreamContinuesAcrossReboots: a client with MCCP2 on sees every
// line said before, during and after 10 seamless reboots, each exactly
// once, in one zlib stream that never ends or restarts, with no inflate
// error (the reboots carry the Adler-32 and the unsent output; each new
// process continues the stream with a fresh raw deflater).
func TestMCCPStreamContinuesAcrossReboots(t *testing.T) {
	lt := startTalker(t)
	zipped := lt.dial(mccpOptions)
	zipped.Register("Zipped", "zipped-pw")
	speaker := lt.dial()
	speaker.Register("Speaker", "speaker-pw")
	if started, _ := zipped.MCCPStreams(); started != 1 {
		t.Fatalf("MCCP2 streams started: %d", started)
	}
	stop := chatter(speaker)
	for i := range 10 {
		out := lt.reboot()
		if !strings.Contains(out, "reboot done") {
			t.Fatalf("reboot %d: %q", i, out)
		}
		time.Sleep(30 * time.Millisecond)
	}
	sent := stop()
	zipped.Expect(fmt.Sprintf("Speaker says 'seq %04d'", sent-1))
	speaker.Send("say the end")
	zipped.Expect("Speaker says 'the end'")
	if err := zipped.InflateError(); err != nil {
		t.Fatalf("inflate error: %v", err)
	}
	if started, ended := zipped.MCCPStreams(); started != 1 || ended != 0 {
		t.Fatalf("streams started %d, ended %d: want one, never ended", started, ended)
	}
	text := zipped.Text()
	if n := strings.Count(text, "Reboot complete"); n != 10 {
		t.Errorf("%d reboot messages inside the stream, want 10", n)
	}
	missing, repeated := seqCounts(text, sent)
	if len(missing) > 0 || len(repeated) > 0 {
		t.Fatalf("of %d lines, missing %v, repeated %v", sent, missing, repeated)
	}
	// The stream ends properly: the carried Adler-32 is right.
	zipped.StopMCCP()
	time.Sleep(200 * time.Millisecond)
	speaker.Send("say plain again")
	zipped.Expect("Speaker says 'plain again'")
	if started, ended := zipped.MCCPStreams(); started != 1 || ended != 1 {
		t.Fatalf("after DONT COMPRESS2: streams started %d, ended %d", started, ended)
	}
	if err := zipped.InflateError(); err != nil {
		t.Fatalf("inflate error at the end of the stream: %v", err)
	}
	t.Logf("%d lines through 10 reboots, each once, one stream", sent)
}

// TestMCCPStreamSurvivesKill9: kill -9 of the talker, three times, 1.5 s
// apart, with a compressed client receiving a line every few milliseconds
// and another quiet in another room: each recovery continues both streams
// (the busy one at a unit boundary with a fresh deflater, its Adler-32
// lost; the quiet one exactly, its Adler-32 known from the checkpoint) and
// no byte ever fails to inflate; no line is shown twice; the quiet one's
// stream still ends properly (right Adler-32) when its client asks. Output
// queued and not yet written when the talker died may be lost (the angel's
// checkpoints do not hold it).
func TestMCCPStreamSurvivesKill9(t *testing.T) {
	// A line every 4 ms is past the default line rate, which would pace
	// them (as startTalker's talker, this one has none).
	la := startAngel(t, "--line-rate", "0", "--byte-rate", "0")
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(la.data, "log", "*"))
			for _, f := range logs {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	zipped := talkertest.Dial(t, la.addr, mccpOptions)
	zipped.Register("Zipped", "zipped-pw")
	idle := talkertest.Dial(t, la.addr, mccpOptions)
	idle.Register("Idler", "idler-pw")
	idle.Send("go garden")
	idle.Expect("Exits:")
	speaker := la.dialClient()
	speaker.Register("Speaker", "speaker-pw")
	time.Sleep(400 * time.Millisecond) // checkpointed
	stop := chatter(speaker)
	for i := range 3 {
		// The quiet stream moves (a shout; the last recovery's message)
		// with nothing else about its session changing: the world
		// checkpoints it again within a second (mccpTick).
		speaker.Send(fmt.Sprintf("shout before kill %d", i))
		idle.Expect(fmt.Sprintf("before kill %d", i))
		time.Sleep(1500 * time.Millisecond)
		victim := la.talkerPID()
		if err := signalPID(victim, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		zipped.Expect("tripped over something and recovered")
		idle.Expect("tripped over something and recovered")
		la.waitNewTalker(victim, 5*time.Second)
		if err := zipped.InflateError(); err != nil {
			t.Fatalf("kill %d: inflate error: %v", i, err)
		}
	}
	sent := stop()
	speaker.Send("say the end")
	zipped.Expect("Speaker says 'the end'")
	speaker.Send("shout the end")
	idle.Expect("the end")
	for name, c := range map[string]*talkertest.Client{"zipped": zipped, "idle": idle} {
		if err := c.InflateError(); err != nil {
			t.Fatalf("%s: inflate error: %v", name, err)
		}
		if started, ended := c.MCCPStreams(); started != 1 || ended != 0 {
			t.Fatalf("%s: streams started %d, ended %d", name, started, ended)
		}
		if c.Closed() {
			t.Fatalf("%s was disconnected", name)
		}
		_, repeated := seqCounts(c.Text(), sent)
		if len(repeated) > 0 {
			t.Fatalf("%s: lines shown twice: %v", name, repeated)
		}
	}
	// The quiet stream's Adler-32 came through three crashes: it ends.
	time.Sleep(1500 * time.Millisecond)
	idle.StopMCCP()
	idle.Send("look")
	idle.Expect("Exits:")
	if started, ended := idle.MCCPStreams(); started != 1 || ended != 1 {
		t.Fatalf("quiet stream after DONT COMPRESS2: started %d, ended %d", started, ended)
	}
	if err := idle.InflateError(); err != nil {
		t.Fatalf("quiet stream: inflate error at its end: %v", err)
	}
	// After a recovery that wrote since its checkpoint, the Adler-32 is
	// unknown: asked to stop, the talker answers but keeps the stream
	// open rather than end it with a wrong trailer; nothing fails.
	zipped.StopMCCP()
	time.Sleep(200 * time.Millisecond)
	speaker.Send("say still readable")
	zipped.Expect("Speaker says 'still readable'")
	if err := zipped.InflateError(); err != nil {
		t.Fatalf("inflate error after DONT COMPRESS2: %v", err)
	}
}
