package player

import "testing"

func TestLookAlikes(t *testing.T) {
	alike := [][2]string{{"AIice", "Alice"}, {"Adrnin", "Admin"}, {"Rnoderator", "Moderator"}, {"Vvendy", "Wendy"},
		{"Clave", "Dave"}, {"ADrnin", "admin"}, {"AlIce", "Allce"}}
	for _, p := range alike {
		if !Alike(p[0], p[1]) {
			t.Errorf("%s and %s should look alike", p[0], p[1])
		}
	}
	unalike := [][2]string{{"Alice", "Alicia"}, {"Ivan", "Lvan"}, {"Bob", "Rob"}, {"Tim", "Tom"}}
	for _, p := range unalike {
		if Alike(p[0], p[1]) {
			t.Errorf("%s and %s should not look alike", p[0], p[1])
		}
	}
	for _, n := range []string{"Sysadmin", "Moderator", "Staff", "Admin", "Root", "Owner", "God", "ADMIN", "Adrnin", "Rnod", "Sysadrnin", "R00t"} {
		if LooksLikeStaff(n) == nil {
			t.Errorf("%s does not look like staff", n)
		}
	}
	for _, n := range []string{"Alice", "Goddard", "Rooter", "Ownership"} {
		if err := LooksLikeStaff(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if got := LookAlike("AIice", []string{"Bob", "Alice"}); got != "Alice" {
		t.Errorf("LookAlike = %q", got)
	}
	if got := LookAlike("Alice", []string{"alice"}); got != "" {
		t.Errorf("a name looks like itself: %q", got)
	}
}
