// Package train trains and evaluates the networks that cnnc generates: the
// library behind `cnnc train`, `cnnc eval` and `cnnc infer` (docs/training.md
// is the user's guide).
//
// # The interface to generated code
//
// Each .cnn becomes its own Go package, so the loop talks to it through an
// interface. Net is the part of a generated *Net's method set that names no
// type of its package (Forward, TrainStep, EndEpoch, LR, MaxBatch, the
// optimizer and dropout-RNG state): every generated *Net satisfies it as it
// is. The rest (State/SetState with the package's TrainState, Tensors with
// its Tensor) is bridged by the generic Adapt, which turns the schedule's
// state into JSON and the tensors into []Tensor. A Spec carries what the
// package says about itself (its constants: input shape, classes, the
// recipe) and a constructor:
//
//	spec := &train.Spec{Name: lenet5.Name, InputH: lenet5.InputH, ..., Recipe: train.Recipe{Batch: lenet5.DefaultBatch, ...},
//		New: func(maxBatch int, seed uint64) *train.Model {
//			return train.Adapt[lenet5.TrainState, lenet5.Tensor](lenet5.New(maxBatch, seed))
//		},
//		ErrNonFinite: lenet5.ErrNonFinite}
//	res, err := train.Run(spec, train.Config{Data: "mnist", Out: "runs/lenet5"})
//
// `cnnc train FILE.cnn` writes exactly this as the main.go of a small module
// (Main parses the flags; package train/build writes, builds and caches that
// module), so the library is also usable on its own from a program that
// imports a package made by `cnnc gen`.
//
// # What the generated code does and what Run does
//
// Everything about the optimizer lives in the generated package, compiled
// from the .cnn's recipe: SGD with momentum, weight decay and Nesterov, the
// loss with its auxiliary heads, batch-norm's train mode (TrainStep) versus
// eval mode (Forward), dropout in TrainStep only, the initialisation (New),
// and the schedule (EndEpoch: plateau on the validation accuracy, every N
// epochs, at given epochs). That is why --lr, --momentum, --decay and
// --nesterov are applied by cnnc to the recipe before code generation and
// not by this package: a step schedule computes its rates from the
// compiled-in DefaultLR. Run owns the rest: the data (LoadData,
// runtime/data's Loader with the recipe's augmentation), the epochs, the
// evaluation after each epoch (Forward: eval mode), the progress bar, the
// epoch log, the plot, the checkpoints and resuming. The batch size, epochs,
// seed and augmentation come from the recipe unless Config overrides them;
// a .cnn that says no batch gets the lecture's 128 (dsl.DefaultRecipe).
//
// The validation accuracy that the plateau schedule sees is the test
// accuracy unless Config.Val holds out the last Val training images (the
// PyTorch MNIST examples do the former; the log records both as val_acc and
// test_acc). The training accuracy of the log and progress bar is measured
// on every 8th batch, in eval mode, right after that batch's step: a cheap
// estimate, not a separate pass.
//
// # Files in --out
//
//	last.safetensors   the checkpoint after the last finished epoch
//	best.safetensors   the checkpoint of the epoch with the best test accuracy
//	log.jsonl          one EpochLog per line (loss, accuracies, lr, images/s ...)
//	plot.png           training and test loss (top), test accuracy (bottom) per epoch
//
// Every file is replaced atomically (safetensors.WriteFileAtomic: temporary
// file, fsync, rename, fsync of the directory), after each epoch. A failure
// to write (a full disk) stops the run with an error and leaves the previous
// file as it was. A NaN or infinite loss (the package's ErrNonFinite, the
// parameters untouched by that step) stops the run with a NonFiniteError
// naming the epoch and step; nothing is written for the failed epoch, so the
// last good checkpoint stays.
//
// # Checkpoint format
//
// A checkpoint is a safetensors file. Tensors: every tensor of the network
// under its own name and PyTorch layout (conv1.weight, bn1.running_mean ...,
// the same file a generated Net's Load reads, except for the extra
// tensors), and the optimizer's state as "optim.<param>.<kind>" with
// PyTorch's kinds (momentum_buffer for SGD, exp_avg and exp_avg_sq for
// Adam), flat. Metadata (strings):
//
//	format        "cnnc-checkpoint/1"
//	network       the network's name
//	source        the whole .cnn text it was trained from; source_path its path
//	overrides     the flags compiled into the code, JSON ({"lr":0.01}) or ""
//	epoch         epochs finished
//	schedule      the package's TrainState as JSON (epoch, lr, plateau state)
//	optim_step    the optimizer's step count
//	loader        runtime/data's LoaderState text: position and both RNG streams
//	dropout_rng   the dropout stream's state, hex
//	run           JSON: data, batch, seed, augment, subset, max_batches, val
//	history       JSON array of the EpochLogs so far (for the log and plot)
//	test_accuracy of this epoch
//
// cnnc eval reads source and overrides to rebuild the network, so a
// checkpoint is enough to evaluate it; a plain weights file (a Net's Save)
// needs --net.
//
// # Resume
//
// Config.Resume restores all of the above and continues with the next
// epoch up to Config.Epochs. The run's data, batch, seed, augmentation,
// subset, max-batches and val must equal the checkpoint's (an error says
// which differ), as must the .cnn source and overrides. Resumed training
// sees exactly the batches, augmentations and dropout masks that the
// uninterrupted run would have seen. The weights are then bit for bit the
// same when the kernels are deterministic: the runtime's parallel kernels
// currently add some partial sums in the order their workers finish, so
// Config.Deterministic (--deterministic) runs them on one goroutine
// (runtime.SetWorkers(1); the matrix products stay parallel). The tests
// compare every weight bit for bit that way.
//
// # Ensembles
//
// Eval evaluates each checkpoint on the test set and the ensemble: the mean
// of the members' softmax outputs, its arg max the prediction (the
// lecture's "ensembles of models"). All members must be the same network.
//
// # Inference on arrays
//
// Infer runs a network on a NumPy array of images (runtime/npy) and writes
// its outputs as one; cnnc infer builds it from the network without its
// final softmax, so that those outputs are the logits (cmd/cnnc's
// logitsModel), and Infer computes the probabilities with the runtime's
// softmax kernel.
//
// # Tests
//
// `go test ./train` trains LeNet-5 for one epoch on the first 20000 real
// MNIST images and requires 95% on the 10000 test images (about 10 s on two
// cores), checks resume bit for bit, the plateau schedule, NaN handling, a
// full disk, data errors and ensembles. train/build's tests check the
// training module (overrides in the generated code, main.go, the cache key)
// without building it; cmd/cnnc's tests build a tiny network with bn and
// dropout and run cnnc train, --resume and cnnc eval end to end.
package train
