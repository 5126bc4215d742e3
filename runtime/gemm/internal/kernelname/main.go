// Command kernelname prints the micro-kernel that gemm.Implementation uses
// on this machine (bench/kernels.sh prints it in its header).
package main

import (
	"fmt"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
)

func main() { fmt.Println(gemm.Kernel()) }
