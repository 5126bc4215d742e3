// Package networks holds the zoo: every network of the lecture and the
// ones people use after it, as .cnn files. Files embeds them for programs
// that carry the zoo with them (the playground's examples).
package networks

import "embed"

// Files is every networks/*.cnn, by file name (alexnet.cnn, ...).
//
//go:embed *.cnn
var Files embed.FS
