# Warnings for aio's own targets (never forced on a consumer).
function(aio_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 at -O2/-O3 reports impossible overlaps inside std::string's operator+
    # (GCC PR105651, fixed in 13); the warning has no true positive in this tree.
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(AIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
