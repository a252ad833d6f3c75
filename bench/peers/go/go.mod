module aio/bench/peers/go

go 1.19
