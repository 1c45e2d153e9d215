package load

import (
	"math/bits"
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func trailingZeros(v uint64) int { return bits.TrailingZeros64(v) }

// nameLetters are the letters client names are written in: names allow
// letters only, and without c, n and v no two of them look alike to the
// talker's look-alike check (cl for d, rn for m, vv for w), which would
// refuse the second.
const nameLetters = "abdefghijklmopqrstuwxyz"

// clientName is the account name of client i: "Lg" and four or more of
// nameLetters, base 23.
func clientName(prefix string, i int) string {
	var b [16]byte
	n := len(b)
	for k := 0; k < 4 || i > 0; k++ {
		n--
		b[n] = nameLetters[i%len(nameLetters)]
		i /= len(nameLetters)
	}
	return prefix + string(b[n:])
}
