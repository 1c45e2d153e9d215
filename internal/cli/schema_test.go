package cli

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"talker/server/store"
)

// TestRebootAcrossSchemaChanges reboots into builds that change the
// database schema (played with TALKER_FAULT=future-schema:KIND). A change
// the running build could not read back is refused before Ready, with the
// way to apply it, and nothing changes; an additive one goes through; and
// a reboot back to this build, on the newer database, works too.
func TestRebootAcrossSchemaChanges(t *testing.T) {
	lt := startTalker(t)
	alice := lt.dial()
	alice.Register("Alice", "alice-pw")
	alice.Send("title the Steady")
	alice.Expect("Your title is now")
	pid := lt.pid()

	lt.swapBinary(fmt.Sprintf("#!/bin/sh\nTALKER_FAULT=future-schema:breaking exec %s \"$@\"\n", lt.good))
	out, err := lt.cli("reboot")
	if err == nil || !strings.Contains(out, "'talker stop', then 'talker start'") {
		t.Fatalf("a reboot into a breaking schema change: %v\n%s", err, out)
	}
	if lt.pid() != pid {
		t.Fatal("the old build did not carry on")
	}
	lt.reapExited()
	alice.Send("say still on the old build")
	alice.Expect("You say 'still on the old build'")

	lt.swapBinary(fmt.Sprintf("#!/bin/sh\nTALKER_FAULT=future-schema:additive exec %s \"$@\"\n", lt.good))
	lt.reboot()
	alice.Expect("Reboot complete")
	alice.Send("say on the newer schema")
	alice.Expect("You say 'on the newer schema'")

	// Back to this build, which knows one schema version less.
	lt.restoreBinary()
	lt.reboot()
	alice.Expect("Reboot complete")
	alice.Send("who")
	alice.Expect("Alice the Steady")
	if alice.Closed() {
		t.Fatal("disconnected")
	}
	// The generation now serving is this build (the fault was not passed
	// on), running on a database a newer build changed.
	if log := lt.logWhen(func(log string) bool { return strings.Contains(log, "schema is ahead of this build") }); !strings.Contains(log, "versions_ahead=1") {
		t.Errorf("the last generation did not find the database ahead of it:\n%s", log)
	}
	// The additive change really was made, and this build runs on it.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(lt.data, store.FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version, notes int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM future_notes").Scan(&notes); err != nil || version != store.SchemaVersion()+1 {
		t.Errorf("schema version %d (want %d), future table: %v", version, store.SchemaVersion()+1, err)
	}
}
