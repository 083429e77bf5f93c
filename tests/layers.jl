# The include order of a Julia module and the names each file uses that a later file defines,
# read with Julia's own parser (tests/test_contract.py calls `module_includes` and `upward_uses`).

"""The top-level expressions of a source file."""
function parsed(path::AbstractString)
    text, exprs, pos = read(path, String), Any[], 1
    while pos <= ncodeunits(text)
        ex, pos = Meta.parse(text, pos)
        ex === nothing || push!(exprs, ex)
    end
    exprs
end

"""The files a module's file `include`s (inside its `module ... end`), in order, relative to its folder."""
function module_includes(path)
    found = String[]
    walk(ex) = if ex isa Expr
        ex.head == :call && ex.args[1] == :include && ex.args[2] isa String ? push!(found, ex.args[2]) :
            foreach(walk, ex.args)
    end
    foreach(walk, parsed(path))
    found
end

signature_name(sig) = sig isa Expr && sig.head in (:where, :(::)) ? signature_name(sig.args[1]) :
                      sig isa Expr && sig.head == :call ? sig.args[1] : sig
type_name(t) = t isa Expr && t.head in (:<:, :curly) ? type_name(t.args[1]) : t

"""The names a top-level expression defines: functions, types, constants, macros, modules."""
function defines!(out::Set{Symbol}, ex)
    ex isa Expr || return out
    if ex.head == :macrocall
        foreach(a -> defines!(out, a), ex.args[2:end])   # @doc "..." f(x) = ..., Base.@kwdef struct ...
    elseif ex.head in (:function, :(=)) && !(ex.head == :(=) && ex.args[1] isa Symbol)
        name = signature_name(ex.args[1])
        name isa Symbol && (ex.head == :function || ex.args[1] isa Expr) && push!(out, name)
    elseif ex.head == :macro
        push!(out, Symbol("@", signature_name(ex.args[1])))
    elseif ex.head == :struct
        push!(out, type_name(ex.args[2]))
    elseif ex.head == :abstract
        push!(out, type_name(ex.args[1]))
    elseif ex.head == :const && ex.args[1] isa Expr && ex.args[1].args[1] isa Symbol
        push!(out, ex.args[1].args[1])
    elseif ex.head == :module
        push!(out, ex.args[2])
    elseif ex.head in (:block, :toplevel)
        foreach(a -> defines!(out, a), ex.args)
    end
    out
end

"""Every name an expression mentions, except field names (after a dot, in a struct) and
keyword names."""
function mentions!(out::Set{Symbol}, ex)
    if ex isa Symbol
        push!(out, ex)
    elseif ex isa Expr
        args = ex.head == :. ? ex.args[1:1] :
               ex.head == :kw ? ex.args[2:2] :
               ex.head == :struct ? [a for a in ex.args[3].args if !(a isa Symbol || a isa Expr && a.head == :(::))] :
               ex.args
        foreach(a -> mentions!(out, a), args)
    end
    out
end

"""The names an expression binds locally: arguments, assigned variables, loop variables."""
function binds!(out::Set{Symbol}, ex)
    ex isa Expr || return out
    bind(a) = a isa Symbol ? push!(out, a) :
              a isa Expr && a.head in (:(::), :kw, :(=), :..., :tuple, :parameters) ? foreach(bind, a.head == :(::) || a.head == :kw || a.head == :(=) ? a.args[1:1] : a.args) :
              nothing
    if ex.head in (:function, :(=), :->) && ex.args[1] isa Expr
        sig = ex.args[1]
        while sig isa Expr && sig.head in (:where, :(::)); sig = sig.args[1]; end
        sig isa Expr && foreach(bind, sig.head == :call ? sig.args[2:end] : sig.head == :tuple ? sig.args : [sig])
        ex.head == :(=) && ex.args[1] isa Expr && ex.args[1].head == :tuple && bind(ex.args[1])
    elseif ex.head in (:(=), :local, :global) && ex.args[1] isa Symbol
        push!(out, ex.args[1])
    elseif ex.head == :for || ex.head == :generator || ex.head == :let
        foreach(a -> a isa Expr && a.head == :(=) && bind(a.args[1]), ex.head == :generator ? ex.args[2:end] : ex.args[1:1])
        ex.head != :generator && ex.args[1] isa Expr && ex.args[1].head == :block &&
            foreach(a -> a isa Expr && a.head == :(=) && bind(a.args[1]), ex.args[1].args)
    elseif ex.head == :do
        bind(ex.args[2].args[1])
    end
    foreach(a -> binds!(out, a), ex.args)
    out
end

"""For the files `files` (paths, in include order) with their `layers` (numbers, not falling),
each use of a name whose first definition is in a later layer: "file uses name (from file)".
`modules_only`: only the names of modules count (the parts of a package, each a module)."""
function upward_uses(files::Vector{String}, layers::Vector{Int}; modules_only::Bool = false)
    first_def = Dict{Symbol,Tuple{Int,String}}()
    module_names(ex) = ex isa Expr && ex.head == :module ? Set([ex.args[2]]) : Set{Symbol}()
    defs = [modules_only ? foldl((s, ex) -> union(s, module_names(ex)), parsed(f); init = Set{Symbol}()) :
            foldl(defines!, parsed(f); init = Set{Symbol}()) for f in files]
    for (f, layer, names) in zip(files, layers, defs), name in names
        haskey(first_def, name) || (first_def[name] = (layer, f))
    end
    found = String[]
    for (f, layer, own) in zip(files, layers, defs)
        exprs = parsed(f)
        local_names = foldl(binds!, exprs; init = Set{Symbol}())
        for name in sort!(collect(foldl(mentions!, exprs; init = Set{Symbol}())))
            (name in own || name in local_names) && continue
            def = get(first_def, name, nothing)
            def !== nothing && def[1] > layer && push!(found, "$(basename(f)) uses $name (from $(def[2]))")
        end
    end
    found
end
