package player

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules and hashing.
//
// bcrypt is used because it is well understood, has a tunable cost stored in
// the hash itself (so raising the cost later upgrades hashes at the next
// login), and needs little memory, which matters when hundreds of players
// log in at once after a network outage. Its 72-byte input limit is enforced
// as the maximum password length rather than silently truncating.
const (
	MinPasswordLen     = 6
	MaxPasswordLen     = 72
	DefaultHashCost    = 12 // about 0.2 s on a current core
	MinHashCost        = bcrypt.MinCost
	MaxHashCost        = bcrypt.MaxCost
	benchmarkWarnLimit = 10
)

// ErrWrongPassword is returned by CheckPassword for a mismatch.
var ErrWrongPassword = errors.New("wrong password")

// ValidatePassword checks a new password against the rules, with a message
// fit to show the player.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return fmt.Errorf("passwords must be at least %d characters long", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return fmt.Errorf("passwords must be at most %d bytes long", MaxPasswordLen)
	}
	return nil
}

// HashPassword hashes pw with the given bcrypt cost.
func HashPassword(pw string, cost int) (string, error) {
	if cost < MinHashCost || cost > MaxHashCost {
		return "", fmt.Errorf("hash cost %d out of range %d..%d", cost, MinHashCost, MaxHashCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword compares pw with a stored hash. needsRehash reports that the
// hash was made with a different cost than wantCost, so the caller can store
// a fresh hash while it has the plain password at hand.
func CheckPassword(hash, pw string, wantCost int) (needsRehash bool, err error) {
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, ErrWrongPassword
		}
		return false, err
	}
	cost, err := bcrypt.Cost([]byte(hash))
	return err == nil && cost != wantCost, nil
}

// WeakCost reports whether cost is only fit for tests and benchmarks.
func WeakCost(cost int) bool { return cost < benchmarkWarnLimit }
