module github.com/earshot-dev/earshot/bench/langid

go 1.26.0

require (
	github.com/abadojack/whatlanggo v1.0.1
	github.com/earshot-dev/earshot v0.0.0
	github.com/pemistahl/lingua-go v1.4.0
)

require (
	github.com/goccy/go-json v0.12.0 // indirect
	github.com/shopspring/decimal v1.5.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/exp v0.0.0-20221106115401-f9659909a136 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/earshot-dev/earshot => ../..
