package playground

import "github.com/cnnc-dev/cnnc/compiler"

// picture draws m as SVG. Until compiler/diagram lands there is none.
func picture(m *compiler.Model, opt Options) (svg, why string) {
	return "", "no picture yet: compiler/diagram is not in this build"
}
