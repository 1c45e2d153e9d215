//go:build !race

package load

const raceBuild = false
