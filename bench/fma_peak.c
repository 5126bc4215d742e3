/* The float32 FMA peak of this machine: 12 independent AVX-512 FMA chains per thread, 1 then 2 threads.
   Each chain starts from its own value: started from the same one, gcc -O2 merges the twelve
   identical chains into one (one vfmadd in the loop) and the figure is three times too high.
   gcc -O2 -mavx512f -mfma -pthread fma_peak.c -o fma_peak && ./fma_peak */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
static double run(void){
  __m512 a0=_mm512_set1_ps(1.0001f),a1=_mm512_set1_ps(1.0002f),a2=_mm512_set1_ps(1.0003f),a3=_mm512_set1_ps(1.0004f),a4=_mm512_set1_ps(1.0005f),a5=_mm512_set1_ps(1.0006f),a6=_mm512_set1_ps(1.0007f),a7=_mm512_set1_ps(1.0008f),a8=_mm512_set1_ps(1.0009f),a9=_mm512_set1_ps(1.0010f),a10=_mm512_set1_ps(1.0011f),a11=_mm512_set1_ps(1.0012f);
  __m512 b=_mm512_set1_ps(0.9999f), c=_mm512_set1_ps(0.00001f);
  long n=400000000L/12; struct timespec t0,t1; clock_gettime(CLOCK_MONOTONIC,&t0);
  for(long i=0;i<n;i++){
    a0=_mm512_fmadd_ps(a0,b,c);a1=_mm512_fmadd_ps(a1,b,c);a2=_mm512_fmadd_ps(a2,b,c);a3=_mm512_fmadd_ps(a3,b,c);
    a4=_mm512_fmadd_ps(a4,b,c);a5=_mm512_fmadd_ps(a5,b,c);a6=_mm512_fmadd_ps(a6,b,c);a7=_mm512_fmadd_ps(a7,b,c);
    a8=_mm512_fmadd_ps(a8,b,c);a9=_mm512_fmadd_ps(a9,b,c);a10=_mm512_fmadd_ps(a10,b,c);a11=_mm512_fmadd_ps(a11,b,c);}
  clock_gettime(CLOCK_MONOTONIC,&t1);
  float s[16]; _mm512_storeu_ps(s,_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0,a1),_mm512_add_ps(a2,a3)),_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a4,a5),_mm512_add_ps(a6,a7)),_mm512_add_ps(_mm512_add_ps(a8,a9),_mm512_add_ps(a10,a11)))));
  if(s[0]==12345)printf("x");
  double sec=(t1.tv_sec-t0.tv_sec)+(t1.tv_nsec-t0.tv_nsec)*1e-9; return n*12.0*32/sec/1e9;}
static void* th(void*p){*(double*)p=run();return 0;}
int main(){double r1=run(); double r[2]; pthread_t t[2]; for(int i=0;i<2;i++)pthread_create(&t[i],0,th,&r[i]); for(int i=0;i<2;i++)pthread_join(t[i],0);
printf("1 thread %.0f GFLOP/s, 2 threads %.0f + %.0f = %.0f GFLOP/s\n",r1,r[0],r[1],r[0]+r[1]);}
