//go:build race

package load

// raceBuild: this test binary is race-built, and so is the talker that
// buildTalker builds for it.
const raceBuild = true
