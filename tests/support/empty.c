/* Keeps the support library non-empty when support/ holds no other source;
 * ISO C wants at least one declaration in a translation unit. */
typedef int cim_test_support_nonempty;
