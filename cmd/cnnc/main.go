// Command cnnc compiles .cnn network descriptions.
//
//	cnnc check [-v] FILE...         check shapes; exit 0 clean, 1 errors, 2 usage (-v: implied projections)
//	cnnc summary [--json | --dot | --ir] FILE
//	                                per-layer shapes, parameters, MACs, activations
//	cnnc fmt [-w] FILE...           print (or rewrite) files in canonical form
//	cnnc gen [-o DIR] [-pkg NAME] FILE  emit the network's Go package
//	cnnc train FILE [flags]         train the network (package train, train/build)
//	cnnc eval CKPT... [flags]       evaluate checkpoints and their ensemble
//	cnnc infer FILE --weights W --input X.npy [-o Y.npy] [--probs] [--top K]
//	                                run inference on a .npy array
//	cnnc serve FILE --weights W [--addr A]  serve predictions over HTTP (package serve)
//	cnnc weights [-v] NET.cnn FROM.safetensors -o TO.safetensors [--names REF.safetensors]
//	                                a PyTorch state dict under the network's names (--names: back)
//	cnnc export NET.cnn [--weights W] -o NET.onnx
//	                                the network as an ONNX model
//	cnnc import MODEL.onnx [-o NET.cnn] [--weights W]
//	                                an ONNX model as a .cnn file and its weights
//	cnnc graph FILE -o NET.svg|NET.png|NET.dot [--collapse]
//	                                a picture of the network (package compiler/diagram)
//	cnnc lsp                        the language server, over stdin and stdout
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/cnnc-dev/cnnc/lsp"
)

const usage = `usage: cnnc <command> [arguments]

commands:
  check [-v] FILE...       check every shape; exit 0 when clean, 1 with errors
                           (-v: a note for every 1x1 projection a residual implies)
  summary [--json | --dot | --ir] FILE
                           one row per layer: output shape, params, MACs, activations
                           (--dot: the picture of cnnc graph as Graphviz text)
  fmt [-w] FILE...         print files in canonical form (-w rewrites them)
  gen [-o DIR] [-pkg NAME] FILE
                           emit the network's Go package (default: ./NAME, NAME from FILE)
  train FILE [flags]       train the network (cnnc train -h lists the flags; docs/training.md)
  eval CKPT... [flags]     test accuracy of checkpoints and of their ensemble
  infer FILE --weights W --input X.npy [-o Y.npy] [--probs] [--top K]
                           logits (or --probs) of a .npy array of images, as .npy
  serve FILE --weights W [--addr HOST:PORT] [--batch N]
                           predictions over HTTP, batched (cnnc serve -h; README "Serving")
  weights [-v] NET.cnn FROM.safetensors -o TO.safetensors [--names REF.safetensors]
                           a PyTorch state dict's tensors under the network's names
                           (by name, else by order and shape; --names: to PyTorch's)
  export NET.cnn [--weights W.safetensors] -o NET.onnx
                           the network as an ONNX model (opset 17), for ONNX Runtime,
                           Netron and the tools that read ONNX
  import MODEL.onnx [-o NET.cnn] [--weights NET.safetensors]
                           an ONNX model as a .cnn file (blocks for what repeats)
                           and its initializers under the network's names
  graph FILE -o NET.svg|NET.png|NET.dot [--collapse]
                           a picture of the network, one box per layer
                           (--collapse: one box per block call)
  lsp                      the language server (LSP over stdin and stdout) for editors
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitInput = 1 // errors in the input files
	exitUsage = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "summary":
		return cmdSummary(rest, stdout, stderr)
	case "fmt":
		return cmdFmt(rest, stdout, stderr)
	case "gen":
		return cmdGen(rest, stdout, stderr)
	case "train":
		return cmdTrain(rest, stdout, stderr)
	case "eval":
		return cmdEval(rest, stdout, stderr)
	case "infer":
		return cmdInfer(rest, stdout, stderr)
	case "serve":
		return cmdServe(rest, stdout, stderr)
	case "weights":
		return cmdWeights(rest, stdout, stderr)
	case "export":
		return cmdExport(rest, stdout, stderr)
	case "import":
		return cmdImport(rest, stdout, stderr)
	case "graph":
		return cmdGraph(rest, stdout, stderr)
	case "lsp":
		return cmdLSP(rest, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "cnnc: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// cmdLSP serves the language server on stdin and stdout until the editor
// sends exit; --stdio, which editors' clients pass, is the only transport.
func cmdLSP(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a != "--stdio" {
			fmt.Fprintf(stderr, "cnnc lsp: unknown argument %q\nusage: cnnc lsp [--stdio]\n", a)
			return exitUsage
		}
	}
	code, err := lsp.Serve(stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc lsp: %v\n", err)
	}
	return code
}
