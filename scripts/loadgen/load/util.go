package load

import (
	"math/bits"
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func trailingZeros(v uint64) int { return bits.TrailingZeros64(v) }

// clientName is the account name of client i: "Lg" and four or more
// letters, base 26 (names allow letters only).
func clientName(prefix string, i int) string {
	var b [16]byte
	n := len(b)
	for k := 0; k < 4 || i > 0; k++ {
		n--
		b[n] = byte('a' + i%26)
		i /= 26
	}
	return prefix + string(b[n:])
}
