module example.com/downstream

go 1.26.0

tool github.com/cnnc-dev/cnnc/cmd/cnnc

require github.com/cnnc-dev/cnnc v0.0.0

require (
	github.com/alecthomas/participle/v2 v2.1.4 // indirect
	github.com/dave/jennifer v1.7.1 // indirect
	golang.org/x/exp v0.0.0-20261113113407-e3970619a1a4 // indirect
	golang.org/x/sys v0.50.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
	gonum.org/v1/netlib v0.0.0-20190313105609-8cb42192e0e0 // indirect
)

replace github.com/cnnc-dev/cnnc => ../..
