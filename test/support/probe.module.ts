import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Max, MinLength } from 'class-validator';
import { Roles } from '../../src/access/access.decorators.js';

class ProbeBody {
  @IsString()
  @MinLength(1)
  name!: string;

  @IsInt()
  @Max(4)
  priority!: number;
}

/** Routes that exist only in tests, to reach the guards and the error filter from outside. */
@Controller('api/v1/_probe')
class ProbeController {
  @Get('admin')
  @Roles('admin')
  admin(): { ok: true } {
    return { ok: true };
  }

  @Post('echo')
  echo(@Body() body: ProbeBody): ProbeBody {
    return body;
  }

  @Get('boom')
  boom(): never {
    throw new Error('kaboom with client_secret=hunter2');
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
