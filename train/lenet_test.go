package train

import (
	"github.com/cnnc-dev/cnnc/gen/lenet5"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// lenetSpec is the Spec that cnnc train's main.go gives for gen/lenet5.
func lenetSpec() *Spec {
	return &Spec{
		Source: "lenet5 as generated in gen/", SourcePath: "networks/lenet5.cnn",
		Program: lenet5.Program(),
		New:     func(maxBatch int, seed uint64) *rt.Net { return lenet5.New(maxBatch, seed).Net },
	}
}
