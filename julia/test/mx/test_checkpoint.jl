@testset "checkpoint" begin
    fc = mx.FullyConnected(mx.Variable(:data); num_hidden = 3, name = :fc)
    net = mx.BatchNorm(fc; name = :bn)
    args = Dict(:fc_weight => mx.NDArray(rand(Float32, 4, 3)), :fc_bias => mx.NDArray(rand(Float32, 3)),
                :bn_gamma => mx.NDArray(rand(Float32, 3)), :bn_beta => mx.NDArray(rand(Float32, 3)))
    aux = Dict(:bn_moving_mean => mx.NDArray(rand(Float32, 3)), :bn_moving_var => mx.NDArray(rand(Float32, 3)))

    @testset "checkpoints load back, in MXNet's names" begin
        dir = mktempdir()
        prefix = joinpath(dir, "sub", "net")
        file = @test_logs (:info, "Saved checkpoint to '$prefix-0007.params'") mx.save_checkpoint(net, prefix, 7, args, aux)
        @test file == "$prefix-0007.params"
        @test sort(readdir(joinpath(dir, "sub"))) == ["net-0007.params", "net-symbol.json"]   # no temp files
        @test Set(keys(mx.load(file, mx.NDArray))) ==
              Set(Symbol.(["arg:fc_weight", "arg:fc_bias", "arg:bn_gamma", "arg:bn_beta",
                           "aux:bn_moving_mean", "aux:bn_moving_var"]))
        sym, arg_params, aux_params = mx.load_checkpoint(prefix, 7)
        @test mx.list_arguments(sym) == mx.list_arguments(net)
        @test all(copy(arg_params[k]) == copy(v) for (k, v) in args) && length(arg_params) == 4
        @test all(copy(aux_params[k]) == copy(v) for (k, v) in aux) && length(aux_params) == 2
    end

    @testset "an interrupted write keeps the old file" begin
        dir = mktempdir()
        path = joinpath(dir, "f.params")
        mx.write_atomically(tmp -> write(tmp, "old"), path)
        @test_throws ErrorException mx.write_atomically(path) do tmp
            write(tmp, "half of the new")
            error("killed")
        end
        @test read(path, String) == "old"
        @test readdir(dir) == ["f.params"]
    end
end
