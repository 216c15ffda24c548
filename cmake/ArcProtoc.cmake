# arc_grpc_proto_library(TARGET ROOT <dir> PROTO <path under ROOT> OUT <dir> COMMENT <text>)
# A static library TARGET of the C++ messages and gRPC service stubs that protoc generates from
# ROOT/PROTO into OUT (a public include directory of TARGET, so `#include "<PROTO minus .proto>.pb.h"`
# works). The caller finds Protobuf, gRPC and GRPC_CPP_PLUGIN (grpc_cpp_plugin) first.
function(arc_grpc_proto_library target)
  cmake_parse_arguments(ARG "" "ROOT;PROTO;OUT;COMMENT" "" ${ARGN})
  string(REGEX REPLACE "\\.proto$" "" stem ${ARG_PROTO})
  set(generated
    ${ARG_OUT}/${stem}.pb.cc ${ARG_OUT}/${stem}.pb.h
    ${ARG_OUT}/${stem}.grpc.pb.cc ${ARG_OUT}/${stem}.grpc.pb.h)
  file(MAKE_DIRECTORY ${ARG_OUT})  # protoc writes into OUT but does not create it
  add_custom_command(
    OUTPUT ${generated}
    COMMAND ${Protobuf_PROTOC_EXECUTABLE}
            --proto_path=${ARG_ROOT}
            --cpp_out=${ARG_OUT}
            --grpc_out=${ARG_OUT}
            --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN}
            ${ARG_ROOT}/${ARG_PROTO}
    DEPENDS ${ARG_ROOT}/${ARG_PROTO}
    COMMENT "${ARG_COMMENT}")
  add_library(${target} STATIC ${generated})
  target_include_directories(${target} PUBLIC ${ARG_OUT})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++)
endfunction()
