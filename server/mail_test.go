package server

import (
	"strings"
	"testing"

	"talker/player"
)

func TestMailToOfflinePlayerDeliveredAtNextLogin(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	bob.Send("quit")
	bob.WaitClosed()

	alice.Send("mail send bob Lunch on Friday? ^RBring cake.")
	alice.Expect("Mail sent to Bob.")
	alice.Send("mail send bob Second thoughts: bring two.")
	alice.Expect("Mail sent to Bob.")

	bob = ts.dial()
	got := bob.Login("bob", "secret-Bob")
	got += bob.Expect("You have 2 new mails.")
	if !strings.Contains(got, "Exits:") {
		t.Errorf("mail notice before the room:\n%s", got)
	}
	bob.Send("mail")
	bob.Expect("Your mail (2 messages, 2 new):")
	bob.Expect("1  * Alice, ")
	bob.Expect("Lunch on Friday? Bring cake.")
	bob.Expect("2  * Alice, ")
	bob.Send("mail read 1")
	bob.Expect("Message 1 from Alice, sent ")
	bob.Expect("Lunch on Friday? Bring cake.")
	bob.Send("mail")
	bob.Expect("(2 messages, 1 new)")
	bob.Send("mail read 3")
	bob.Expect("You have no message 3.")
	bob.Send("mail delete 1")
	bob.Expect("Message 1 deleted.")
	bob.Send("mail read 1")
	bob.Expect("Second thoughts: bring two.")
	bob.Send("mail delete all")
	bob.Expect("Your mailbox is empty.")
	bob.Send("mail")
	bob.Expect("You have no mail.")
	bob.Send("mail frobnicate")
	bob.Expect("Usage: mail")

	// Read mail is not announced at log-in.
	alice.Send("mail send bob one more")
	bob.Expect("*** You have new mail from Alice.")
	bob.Send("mail read 1")
	bob.Expect("one more")
	bob.Send("quit")
	bob.WaitClosed()
	bob = ts.dial()
	got = bob.Login("bob", "secret-Bob")
	if strings.Contains(got+bob.Quiet(200e6), "new mail") {
		t.Errorf("read mail announced as new:\n%s", got)
	}
}

func TestMailRules(t *testing.T) {
	ts := startServer(t)
	newbie := ts.newPlayer("Newt")
	res := ts.account("Rita", player.Resident)
	staff := ts.account("Sue", player.Staff)

	newbie.Send("mail send rita hi")
	newbie.Expect("Newbies can send mail only to staff.")
	newbie.Send("mail send sue may I be a resident?")
	newbie.Expect("Mail sent to Sue.")
	staff.Expect("*** You have new mail from Newt.")
	res.Send("mail send newt welcome")
	res.Expect("Newt is a newbie and cannot get mail yet.")
	res.Send("mail send nobody hi")
	res.Expect("There is nobody called 'nobody'")
	res.Send("mail send")
	res.Expect("Usage: mail")
	res.Send("mail send sue") // the editor, abandoned
	res.Expect("Writing mail to Sue")
	res.Send(".q")
	res.Expect("Abandoned: nothing was sent.")

	// Ignoring tells refuses mail too.
	staff.Send("mail send rita hello from staff")
	res.Expect("new mail from Sue")
	res.Send("ignore newt tells")
	res.Expect("ignoring tells from Newt")
	ts.srv.Do(func(w *World) { w.online["newt"].Player.Rank = player.Resident })
	newbie.Send("mail send rita now?")
	newbie.Expect("Rita is ignoring you.")
}
