package telnet

import (
	"encoding/json"
	"reflect"
	"testing"
)

var allQ = []Q{QNo, QYes, QWantNo, QWantYes, QWantNoOpposite, QWantYesOpposite}

// TestQReceive checks every RFC 1143 (state, received verb) transition on
// both sides. Verbs are written for SideHim (WILL/WONT received, DO/DONT
// sent) and mapped for SideUs.
func TestQReceive(t *testing.T) {
	type tr struct {
		to   Q
		send byte // as DO/DONT; 0 = nothing
	}
	// RFC 1143 section 7, "upon receipt of WILL" / "upon receipt of WONT".
	willAccept := map[Q]tr{
		QNo: {QYes, DO}, QYes: {QYes, 0}, QWantNo: {QNo, 0}, QWantNoOpposite: {QYes, 0},
		QWantYes: {QYes, 0}, QWantYesOpposite: {QWantNo, DONT},
	}
	willRefuse := map[Q]tr{
		QNo: {QNo, DONT}, QYes: {QYes, 0}, QWantNo: {QNo, 0}, QWantNoOpposite: {QYes, 0},
		QWantYes: {QYes, 0}, QWantYesOpposite: {QWantNo, DONT},
	}
	wont := map[Q]tr{
		QNo: {QNo, 0}, QYes: {QNo, DONT}, QWantNo: {QNo, 0}, QWantNoOpposite: {QWantYes, DO},
		QWantYes: {QNo, 0}, QWantYesOpposite: {QNo, 0},
	}
	cases := []struct {
		name   string
		verb   byte
		accept bool
		table  map[Q]tr
	}{
		{"WILL accepted", WILL, true, willAccept},
		{"WILL refused", WILL, false, willRefuse},
		{"WONT", WONT, true, wont},
		{"WONT refused", WONT, false, wont},
	}
	toUs := map[byte]byte{WILL: DO, WONT: DONT, DO: WILL, DONT: WONT, 0: 0}
	for _, c := range cases {
		for _, side := range []Side{SideHim, SideUs} {
			for _, from := range allQ {
				want := c.table[from]
				verb := c.verb
				if side == SideUs {
					verb, want.send = toUs[verb], toUs[want.send]
				}
				var o Options
				o.set(side, 42, from)
				send, gotFrom, to := o.Receive(verb, 42, c.accept)
				if send != want.send || gotFrom != from || to != want.to || o.Get(side, 42) != want.to {
					t.Errorf("side %d %s in %v: send %d, %v->%v; want send %d, ->%v",
						side, c.name, from, send, gotFrom, to, want.send, want.to)
				}
				// A request that changes nothing is never answered.
				if from == to && send != 0 && !(from == QNo && verb != WONT && verb != DONT) {
					t.Errorf("side %d %s in %v: answered a no-op", side, c.name, from)
				}
				if other := SideUs + SideHim - side; o.Get(other, 42) != QNo {
					t.Errorf("other side touched")
				}
			}
		}
	}
}

func TestQRequest(t *testing.T) {
	type tr struct {
		to   Q
		send byte // as WILL/WONT (SideUs); 0 = nothing
	}
	enable := map[Q]tr{
		QNo: {QWantYes, WILL}, QYes: {QYes, 0}, QWantNo: {QWantNoOpposite, 0},
		QWantNoOpposite: {QWantNoOpposite, 0}, QWantYes: {QWantYes, 0}, QWantYesOpposite: {QWantYes, 0},
	}
	disable := map[Q]tr{
		QNo: {QNo, 0}, QYes: {QWantNo, WONT}, QWantNo: {QWantNo, 0},
		QWantNoOpposite: {QWantNo, 0}, QWantYes: {QWantYesOpposite, 0}, QWantYesOpposite: {QWantYesOpposite, 0},
	}
	toHim := map[byte]byte{WILL: DO, WONT: DONT, 0: 0}
	for _, on := range []bool{true, false} {
		table := map[bool]map[Q]tr{true: enable, false: disable}[on]
		for _, side := range []Side{SideUs, SideHim} {
			for _, from := range allQ {
				want := table[from]
				if side == SideHim {
					want.send = toHim[want.send]
				}
				var o Options
				o.set(side, 7, from)
				if send := o.Request(side, 7, on); send != want.send || o.Get(side, 7) != want.to {
					t.Errorf("side %d request %v in %v: send %d ->%v; want %d ->%v",
						side, on, from, send, o.Get(side, 7), want.send, want.to)
				}
			}
		}
	}
}

// TestQOnlyStoresNonNo keeps the table compact: NO entries are deleted.
func TestQOnlyStoresNonNo(t *testing.T) {
	var o Options
	o.Request(SideUs, OptEOR, true)
	o.Receive(DONT, OptEOR, true)
	o.Receive(DO, OptLinemode, false)
	o.Receive(WILL, OptGMCP, false)
	if len(o.Us) != 0 || len(o.Him) != 0 {
		t.Fatalf("table holds NO entries: %+v", o)
	}
}

func TestOptionsJSON(t *testing.T) {
	var o Options
	o.set(SideUs, OptEOR, QYes)
	o.set(SideUs, OptEcho, QWantYesOpposite)
	o.set(SideHim, OptNAWS, QWantNo)
	j, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back Options
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o, back) {
		t.Fatalf("%s: got %+v want %+v", j, back, o)
	}
	if string(j) != `{"us":{"1":5,"25":1},"him":{"31":2}}` {
		t.Fatalf("unexpected encoding %s", j)
	}
}
