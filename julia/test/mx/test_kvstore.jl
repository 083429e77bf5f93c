@testset "kvstore" begin
    kv = mx.KVStore(:local)
    @test mx.get_type(kv) == "local"
    mx.init!(kv, 1, mx.NDArray(Float32[1, 2, 3]))
    outs = [mx.zeros(3), mx.zeros(3; ctx = mx.cpu(1))]
    mx.pull!(kv, 1, outs)
    @test all(copy(o) == Float32[1, 2, 3] for o in outs)
    # Pushing one array per device stores their sum.
    push!(kv, 1, [mx.NDArray(Float32[1, 1, 1]), mx.NDArray(Float32[0.5, 2, -4]; ctx = mx.cpu(1))])
    mx.pull!(kv, 1, outs)
    @test all(copy(o) == Float32[1.5, 3, -3] for o in outs)
    # libmxnet would quietly make a local store of any unknown name.
    @test_throws mx.MXError mx.KVStore(:no_such_store)

    types = mx.kvstore_types()
    @test types[1:2] == ["local", "device"]
    @test ("dist_sync" in types) == mx.has_feature("DIST_KVSTORE")
    @test ("nccl" in types) == mx.has_feature("NCCL")

    # Outside a parameter-server job (no DMLC_ROLE) a process is its own only worker.
    @test mx.ps_role() == :none && mx.rank(kv) == 0 && mx.group_size(kv) == 1
    @test mx.is_distributed("dist_sync") && !mx.is_distributed(:local) && !mx.is_sync(kv)
    mx.close!(kv)
    mx.close!(kv)   # twice is harmless
end
