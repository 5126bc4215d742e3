package train

import (
	"github.com/cnnc-dev/cnnc/gen/lenet5"
)

// lenetSpec is the Spec that cnnc train's main.go gives for gen/lenet5.
func lenetSpec() *Spec {
	return &Spec{
		Name: lenet5.Name, Source: "lenet5 as generated in gen/", SourcePath: "networks/lenet5.cnn",
		InputH: lenet5.InputH, InputW: lenet5.InputW, InputC: lenet5.InputC, Classes: lenet5.Classes,
		Recipe: Recipe{Batch: lenet5.DefaultBatch, Epochs: lenet5.DefaultEpochs, Seed: 1, Optimizer: lenet5.Optimizer,
			LR: lenet5.DefaultLR, Momentum: lenet5.Momentum, Decay: lenet5.WeightDecay, Nesterov: lenet5.Nesterov,
			Schedule: lenet5.Schedule, Augment: Augment{Crop: lenet5.AugmentCrop, Pad: lenet5.AugmentPad,
				Translate: lenet5.AugmentTranslate, Mirror: lenet5.AugmentMirror}},
		New: func(maxBatch int, seed uint64) *Model {
			return Adapt[lenet5.TrainState, lenet5.Tensor](lenet5.New(maxBatch, seed))
		},
		ErrNonFinite: lenet5.ErrNonFinite,
	}
}
