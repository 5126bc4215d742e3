// Package downstream shows cnnc used from another module: digits.cnn is
// compiled into package digits by `go generate`, through the cnnc tool
// recorded in go.mod.
package downstream

//go:generate go tool cnnc gen -o digits -pkg digits digits.cnn
