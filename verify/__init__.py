"""What proves the program offline: the mocks runner's checks, fault injection, simulations,
contract checks and benchmarks. Used by tests/, `make soak` and `make bench`; never by the product
(components/, stack/, functions/, site/) nor by the operator's commands (ops/)."""
