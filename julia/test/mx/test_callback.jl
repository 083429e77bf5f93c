@testset "callback" begin
    @testset "every n batches and epochs" begin
        calls = Int[]
        cb = mx.every_n_batch(state -> push!(calls, state.curr_batch), 2; call_on_0 = true)
        state = mx.OptimizationState(8)
        for b in 0:5
            state.curr_batch = b
            cb(state)
        end
        @test calls == [0, 2, 4]
        epochs = Int[]
        cb = mx.every_n_epoch((model, state, metric) -> push!(epochs, state.curr_epoch), 3)
        for e in 0:6
            state.curr_epoch = e
            cb(nothing, state, [])
        end
        @test epochs == [3, 6]
    end

    @testset "speedometer logs the original's line" begin
        cb = mx.speedometer(frequency = 2)
        state = mx.OptimizationState(32)
        @test_logs (:info, r"^Speed: \d+\.\d\d samples/sec$") begin
            for b in 0:2
                state.curr_batch = b
                cb(state)
            end
        end
    end
end
