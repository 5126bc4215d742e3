package playground

import (
	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/diagram"
)

// picture draws m as `cnnc graph` does, or says why it cannot.
func picture(m *compiler.Model, opt Options) (svg, why string) {
	d, err := diagram.Layout(m, diagram.Options{Collapse: opt.Collapse})
	if err != nil {
		return "", err.Error()
	}
	return string(d.SVG()), ""
}
