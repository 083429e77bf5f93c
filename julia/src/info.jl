"What `pyjlchar doctor` reports about the Julia side and the libmxnet build."
function system_info()
    return Dict{String,Any}(
        "julia_version" => string(VERSION),
        "julia_threads" => Threads.nthreads(),
        # The system image this process started from: pyjlchar's own (PyJLChar compiled in) or Julia's.
        "sysimage" => unsafe_string(Base.JLOptions().image_file),
        "mxnet_library" => mx.library_path(),
        "mxnet_version" => string(mx.version()),
        "mxnet_features" => Dict{String,Any}(name => on for (name, on) in mx.features()),
        "gpu_count" => mx.gpu_count(),
        "kvstore_types" => mx.kvstore_types(),
    )
end
