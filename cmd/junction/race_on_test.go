//go:build race

package main

// raceEnabled: the tests run with the race detector, so binaries they build use it too.
const raceEnabled = true
