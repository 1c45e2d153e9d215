package player

import (
	"strings"
	"testing"
)

// LooksLikeStaff through the titles' keys answers as comparing the name
// with every form of every title does (Alike), for titles, their
// disguises and ordinary names.
func TestLooksLikeStaffMatchesComparingWithEveryTitle(t *testing.T) {
	var forms []string
	for _, w := range staffTitles {
		forms = append(forms, w, strings.ToUpper(w[:1])+w[1:], strings.ToUpper(w))
	}
	for w := range reservedNames {
		forms = append(forms, w, strings.ToUpper(w[:1])+w[1:], strings.ToUpper(w))
	}
	names := []string{"Alice", "Bob", "Goddard", "Rooter", "Ownership", "Adrnin", "ADrnin", "R00t", "Sysop",
		"Staf", "Sttaff", "Wizzard", "Vvizard", "Rnod", "Modd", "Angela", "Talkers", "Suport", "Helpdesk", "Lgaaab"}
	names = append(names, forms...)
	alikeFound := 0
	for _, n := range names {
		want := false
		for _, f := range forms {
			if Alike(n, f) {
				want = true
				break
			}
		}
		if want {
			alikeFound++
		}
		if got := LooksLikeStaff(n) != nil; got != want {
			t.Errorf("LooksLikeStaff(%q) refused = %v, comparing with every title says %v", n, got, want)
		}
	}
	if alikeFound <= len(forms) || alikeFound == len(names) {
		t.Fatalf("%d of %d names look like staff: the cases do not test both answers", alikeFound, len(names))
	}
}
