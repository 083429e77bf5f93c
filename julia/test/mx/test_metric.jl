@testset "metric" begin
    pred = mx.NDArray(Float32[0.1 0.8 0.3; 0.7 0.1 0.3; 0.2 0.1 0.4])   # 3 classes × 3 samples
    label = mx.NDArray(Float32[1, 0, 0])
    acc = mx.Accuracy()
    mx.update!(acc, [label], [pred])
    @test mx.get(acc) == [(:accuracy, 2 / 3)]
    mx.update!(acc, [mx.NDArray(Float32[2, 2, 2])], [pred])
    @test mx.get(acc) == [(:accuracy, 3 / 6)]
    mx.reset!(acc)
    @test mx.get(acc) == [(:accuracy, 0.0)]
    @test_throws mx.MXError mx.update!(acc, [mx.NDArray(Float32[1, 0])], [pred])

    mse = mx.MSE()
    mx.update!(mse, [mx.NDArray(Float32[1, 2, 3])], [mx.NDArray(Float32[1 0 5])])
    @test mx.get(mse) == [(:mse, 8 / 3)]
    mx.reset!(mse)
    @test mx.get(mse) == [(:mse, 0.0)]
end
