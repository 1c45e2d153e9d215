package text

import "testing"

func TestForScreenReader(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain words", "plain words"},
		{"Welcome!\n=========\n", "Welcome!\n"},
		{"+------+\n| Name |\n+------+", "Name"},
		{"*** The talker is rebooting, hold on... ***", "The talker is rebooting, hold on..."},
		{"[ Alice has connected ]", "Alice has connected"},
		{"Note: ---- a rule ---- inside", "Note: a rule inside"},
		{"  _   _\n | | | |\n |_| |_|\nHello\r\n", "Hello\r\n"},
		{"Bob says '^_^ :)'", "Bob says '^_^ :)'"},
		{"line one\r\n\r\nline two", "line one\r\n\r\nline two"},
		{"", ""},
	} {
		if got := ForScreenReader(c.in); got != c.want {
			t.Errorf("ForScreenReader(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
